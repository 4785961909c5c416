// What the task engine does, whatever runs the containers: one suite, run against the in-memory fake
// backend (task-engine.test.ts) and against the Docker backend on a real Docker engine
// (task-engine.docker.test.ts). A harness says how to make a container exit, turn healthy or vanish on
// its runtime; the assertions are the same.
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerDefinition, Task, TaskDefinition } from "../../../generated/shapes.ts";
import type { RunTaskSpec, TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { container, isStatus } from "./engine-fixture.ts";

export interface AppOptions {
  /** Like a PID 1 without a SIGTERM handler: a stop ends in SIGKILL (137). */
  ignoresSigterm?: boolean;
  /** Give it a health check that passes once `healthy` is called. */
  healthCheck?: boolean;
}

export interface EngineEnv {
  engine: TaskEngine;
  /** A container that runs until `exit` is called (or it is stopped: 143 unless it ignores SIGTERM). */
  app(name: string, extra?: Partial<ContainerDefinition>, options?: AppOptions): ContainerDefinition;
  run(containers: ContainerDefinition[], tdExtra?: Partial<TaskDefinition>, specExtra?: Partial<RunTaskSpec>): Task;
  exit(task: Task, name: string, code: number): Promise<void>;
  healthy(task: Task, name: string): Promise<void>;
  /** Removed behind the engine's back; `quietly`: while no engine listens. */
  vanish(task: Task, name: string): Promise<void>;
  /** An image the runtime cannot get. */
  missingImage: string;
  /** Time passes (the engine's clock and its timers). */
  advance(ms: number): void;
  /** Closes this engine and starts a new one on the same database and runtime; `meanwhile` runs in between. */
  restart(meanwhile?: () => Promise<void>): Promise<EngineEnv>;
}

export interface EngineHarness {
  /** Waits on the runtime are longer on real Docker. */
  timeoutMs: number;
  /** Run the cases at the same time (each has its own engine). */
  concurrent?: boolean;
  setup(): Promise<EngineEnv>;
  teardown(): Promise<void>;
}

export function describeEngineBehaviour(title: string, harness: EngineHarness): void {
  const T = harness.timeoutMs;
  afterEach(() => harness.teardown());

  (harness.concurrent === true ? describe.concurrent : describe)(title, () => {
    it("runs a task PENDING → RUNNING → STOPPED, one version per change, with the exit code", async () => {
      const env = await harness.setup();
      const snapshots: Task[] = [];
      env.engine.subscribe((t) => snapshots.push(t));
      const task = env.run([env.app("app", { cpu: 128, memory: 64 })]);
      expect(task).toMatchObject({ lastStatus: "PENDING", desiredStatus: "RUNNING", version: 1, launchType: "EC2" });
      expect(container(task, "app")).toMatchObject({ lastStatus: "PENDING", cpu: "128", memory: "64", healthStatus: "UNKNOWN" });
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      expect(up.startedAt).toBeInstanceOf(Date);
      expect(up.pullStartedAt).toBeInstanceOf(Date);
      expect(up.pullStoppedAt).toBeInstanceOf(Date);
      expect(container(up, "app")).toMatchObject({ lastStatus: "RUNNING", runtimeId: expect.stringMatching(/^[0-9a-f]{64}$/), imageDigest: expect.stringMatching(/^sha256:/) });

      await env.exit(up, "app", 3);
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down).toMatchObject({ desiredStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" });
      expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 3 });
      for (const at of ["executionStoppedAt", "stoppingAt", "stoppedAt"] as const) expect(down[at]).toBeInstanceOf(Date);
      const mine = snapshots.filter((t) => t.taskArn === task.taskArn);
      expect(statusesOf(mine)).toEqual(["PENDING", "RUNNING", "STOPPING", "STOPPED"]);
      expect(mine.map((t) => t.version)).toEqual(mine.map((_, i) => i + 1));
    });

    it("a non-essential exit changes nothing; an essential exit stops the others", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("main"), env.app("side", { essential: false }), env.app("other", { essential: false })]);
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      await env.exit(up, "side", 0);
      const afterSide = await env.engine.waitFor(task.taskArn!, (t) => container(t, "side").lastStatus === "STOPPED", T);
      expect(afterSide).toMatchObject({ lastStatus: "RUNNING", desiredStatus: "RUNNING" });
      await env.exit(up, "main", 0);
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down.stopCode).toBe("EssentialContainerExited");
      expect(container(down, "other")).toMatchObject({ lastStatus: "STOPPED", exitCode: 143 });
    });

    it("StopTask: UserInitiated, dependents first, stopTimeout honoured, and a second StopTask changes nothing", async () => {
      const env = await harness.setup();
      const task = env.run([
        env.app("db", { stopTimeout: 1 }, { ignoresSigterm: true }),
        env.app("app", { links: ["db:database"] }),
        env.app("proxy", { dependsOn: [{ containerName: "app", condition: "START" }] }),
      ]);
      await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      const stopping = env.engine.stopTask(task.taskArn!, "testing stop")!;
      expect(stopping).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "testing stop" });
      expect(stopping.stoppingAt).toBeInstanceOf(Date);
      const again = env.engine.stopTask(task.taskArn!, "other reason")!;
      expect(again.version).toBe(stopping.version);
      expect(again.stoppedReason).toBe("testing stop");

      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down.stoppedReason).toBe("testing stop");
      expect(container(down, "db").exitCode).toBe(137);
      expect(container(down, "app").exitCode).toBe(143);
      const finished = Object.fromEntries(env.engine.runtimeState(task.taskArn!)!.containers.map((c) => [c.name, c.finishedAt ?? 0]));
      expect(finished["proxy"]).toBeLessThanOrEqual(finished["app"]!);
      expect(finished["app"]).toBeLessThanOrEqual(finished["db"]!);
    });

    it("StopTask without a reason says 'Task stopped by user'", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("app")]);
      await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      expect(env.engine.stopTask(task.taskArn!)?.stoppedReason).toBe("Task stopped by user");
      await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    });

    it("an image the runtime cannot get stops the task TaskFailedToStart with CannotPullContainerError", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("app", { image: env.missingImage })]);
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: expect.stringMatching(/^CannotPullContainerError: /) });
      expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", reason: expect.stringMatching(/^CannotPullContainerError: /) });
      expect(container(down, "app").exitCode).toBeUndefined();
      expect(down.pullStartedAt).toBeInstanceOf(Date);
    });

    it("dependsOn SUCCESS waits for exit 0; a failed dependency blocks the dependent with 143", async () => {
      const env = await harness.setup();
      const pair = (): ContainerDefinition[] => [env.app("init", { essential: false }), env.app("app", { dependsOn: [{ containerName: "init", condition: "SUCCESS" }] })];
      const ok = env.run(pair());
      const initUp = await env.engine.waitFor(ok.taskArn!, (t) => container(t, "init").lastStatus === "RUNNING", T);
      expect(container(initUp, "app").runtimeId).toBeUndefined();
      await env.exit(initUp, "init", 0);
      const up = await env.engine.waitFor(ok.taskArn!, isStatus("RUNNING"), T);
      expect(container(up, "init")).toMatchObject({ lastStatus: "STOPPED", exitCode: 0 });

      const bad = env.run(pair());
      const badInit = await env.engine.waitFor(bad.taskArn!, (t) => container(t, "init").lastStatus === "RUNNING", T);
      await env.exit(badInit, "init", 1);
      const down = await env.engine.waitFor(bad.taskArn!, isStatus("STOPPED"), T);
      expect(container(down, "app")).toMatchObject({ exitCode: 143, reason: expect.stringMatching(/^CannotStartContainerError: dependency graph: .*did not exit successfully/) });
      expect(container(down, "app").runtimeId).toBeUndefined();
      expect(down.stopCode).toBe("TaskFailedToStart");
    });

    it("dependsOn HEALTHY starts the dependent once healthy, and task health follows the essential containers", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("db", {}, { healthCheck: true }), env.app("app", { dependsOn: [{ containerName: "db", condition: "HEALTHY" }] })]);
      const dbUp = await env.engine.waitFor(task.taskArn!, (t) => container(t, "db").lastStatus === "RUNNING", T);
      expect(container(dbUp, "app").runtimeId).toBeUndefined();
      await env.healthy(dbUp, "db");
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      expect(up.healthStatus).toBe("HEALTHY");
      expect(container(up, "db").healthStatus).toBe("HEALTHY");
      expect(container(up, "app").healthStatus).toBe("UNKNOWN");
    });

    it("a dependency that outlives its startTimeout blocks the dependent (143) once the time has passed", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("slow", { essential: false, startTimeout: 2 }), env.app("app", { dependsOn: [{ containerName: "slow", condition: "COMPLETE" }] })]);
      await env.engine.waitFor(task.taskArn!, (t) => container(t, "slow").lastStatus === "RUNNING", T);
      env.advance(2_500);
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(container(down, "app")).toMatchObject({ exitCode: 143, reason: expect.stringMatching(/^CannotStartContainerError: .*timed out/) });
      expect(container(down, "app").runtimeId).toBeUndefined();
      expect(down.stopCode).toBe("TaskFailedToStart");
    });

    it("reports the host ports of dynamic port mappings", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("web", { portMappings: [{ containerPort: 8080 }] })]);
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      expect(container(up, "web").networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 8080, hostPort: expect.any(Number), protocol: "tcp" }]);
      expect(container(up, "web").networkBindings![0]!.hostPort).toBeGreaterThan(0);
    });

    it("awsvpc walks PROVISIONING … STOPPED with an ENI whose address the containers report", async () => {
      const env = await harness.setup();
      const snapshots: Task[] = [];
      env.engine.subscribe((t) => snapshots.push(t));
      const task = env.run([env.app("web", { portMappings: [{ containerPort: 8080 }] })], { networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"] }, {
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-123"] } },
      });
      expect(task).toMatchObject({ lastStatus: "PROVISIONING", launchType: "FARGATE", platformVersion: "1.4.0", platformFamily: "Linux" });
      expect(task.attachments?.[0]).toMatchObject({ type: "ElasticNetworkInterface", status: "PRECREATED" });
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      const eni = up.attachments![0]!;
      expect(eni.status).toBe("ATTACHED");
      const ip = eni.details?.find((d) => d.name === "privateIPv4Address")?.value;
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(eni.details?.find((d) => d.name === "subnetId")?.value).toBe("subnet-123");
      expect(container(up, "web").networkInterfaces).toEqual([{ attachmentId: eni.id, privateIpv4Address: ip }]);
      env.engine.stopTask(task.taskArn!);
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down.attachments![0]!.status).toBe("DELETED");
      expect(statusesOf(snapshots.filter((t) => t.taskArn === task.taskArn))).toEqual([
        "PROVISIONING",
        "PENDING",
        "ACTIVATING",
        "RUNNING",
        "DEACTIVATING",
        "STOPPING",
        "DEPROVISIONING",
        "STOPPED",
      ]);
    });

    it("a container force-removed behind the engine's back was killed: the task stops with its exit", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("app")]);
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      await env.vanish(up, "app");
      const down = await env.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(down).toMatchObject({ stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" });
      expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 137 });
    });

    it("a new engine on the same database re-adopts running tasks and records what happened while it was away", async () => {
      const env = await harness.setup();
      const task = env.run([env.app("a"), env.app("b", { essential: false }), env.app("c", { essential: false })]);
      const up = await env.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
      const next = await env.restart(async () => {
        await env.exit(up, "b", 5);
        await env.vanish(up, "c");
      });
      const now = await next.engine.waitFor(task.taskArn!, (t) => container(t, "c").lastStatus === "STOPPED" && container(t, "b").lastStatus === "STOPPED", T);
      expect(now.lastStatus).toBe("RUNNING");
      expect(container(now, "b")).toMatchObject({ exitCode: 5 });
      expect(container(now, "c").reason).toMatch(/^ContainerVanishedError/);
      expect(container(now, "a").runtimeId).toBe(container(up, "a").runtimeId);
      await next.exit(now, "a", 0);
      const down = await next.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
      expect(container(down, "a").exitCode).toBe(0);
    });
  });
}

function statusesOf(snapshots: readonly Task[]): string[] {
  const out: string[] = [];
  for (const t of snapshots) if (out.at(-1) !== t.lastStatus) out.push(t.lastStatus ?? "");
  return out;
}
