// Renders the engine's container records into the ECS `Task` that DescribeTasks, the metadata endpoint
// and every subscriber see. Pure.
import { hash } from "node:crypto";
import type { Container, Task } from "../../../generated/shapes.ts";
import type { TaskDocument } from "./task-document.ts";
import { containerBackendStatus } from "./task-status.ts";

/** Brings `doc.task.containers` (and the ENI) in line with the records. */
export function renderTask(doc: TaskDocument): void {
  const { task, state } = doc;
  const eni = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
  task.containers = (task.containers ?? []).map((prev) => {
    const c = state.containers.find((x) => x.name === prev.name);
    if (c === undefined) return prev;
    const out: Container = { ...prev, lastStatus: containerBackendStatus(c.known), healthStatus: c.health };
    if (c.runtimeId !== undefined) out.runtimeId = c.runtimeId;
    if (c.imageDigest !== undefined) out.imageDigest = c.imageDigest;
    if (c.exitCode !== undefined) out.exitCode = c.exitCode;
    if (c.reason !== undefined) out.reason = c.reason;
    if (c.networkBindings !== undefined) out.networkBindings = c.networkBindings;
    if (eni?.id !== undefined && state.ipv4 !== undefined) {
      out.networkInterfaces = [{ attachmentId: eni.id, privateIpv4Address: state.ipv4 }];
    }
    if (out.managedAgents !== undefined) {
      out.managedAgents = out.managedAgents.map((a) => {
        const agent = { ...a, lastStatus: containerBackendStatus(c.known) as string };
        if (c.startedAt !== undefined) agent.lastStartedAt = new Date(c.startedAt);
        return agent;
      });
    }
    return out;
  });
}

/** The ENI of an awsvpc task once its address is known (ATTACHED) or after the task let it go (DELETED). */
export function renderEni(doc: TaskDocument, status: "ATTACHED" | "DELETED"): void {
  const eni = doc.task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
  if (eni === undefined) return;
  eni.status = status;
  const ip = doc.state.ipv4;
  if (status === "ATTACHED" && ip !== undefined && !(eni.details ?? []).some((d) => d.name === "privateIPv4Address")) {
    (eni.details ??= []).push(
      { name: "privateDnsName", value: `ip-${ip.replaceAll(".", "-")}.ec2.internal` },
      { name: "privateIPv4Address", value: ip },
    );
  }
}

/**
 * Everything visible but the version: a new version is due exactly when this changes. A digest, not the
 * JSON itself: it is kept per live task and only ever compared.
 */
export function fingerprintOf(task: Task): string {
  const { version: _version, ...rest } = task;
  return hash("sha1", JSON.stringify(rest), "base64");
}

/** A short form of a task for error messages. */
export function summaryOf(task: Task | undefined): unknown {
  if (task === undefined) return undefined;
  return {
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    containers: task.containers?.map((c) => ({ name: c.name, lastStatus: c.lastStatus, exitCode: c.exitCode, reason: c.reason, health: c.healthStatus })),
  };
}
