// Who holds a pooled task network, written on it when it is created, so that any other server on the same
// Docker daemon can tell whether that holder is still alive. Docker labels cannot change after creation,
// so the label names the holder's process (not a heartbeat):
// - "container:<id>": a server running in a container of this daemon; alive while that container runs
//   (anyone can ask the daemon).
// - "process:<boot id>:<pid namespace>:<pid>:<start time>": a server on a host (or in a sandbox the daemon
//   does not know); alive while that pid exists with that start time. Only a process in the same pid
//   namespace can tell; a lease from an earlier boot is dead for everyone.
// A lease nobody can judge is "unknown", and its networks are left alone.
import { readFileSync, readlinkSync } from "node:fs";
import type { ContainerRuntime } from "./container-runtime.ts";
import { ownContainerCandidates } from "./own-container.ts";

/** The label carrying the lease on every pooled network. */
export const POOL_LEASE_LABEL = "local-ecs-api.task-network-pool.lease";

export type Liveness = "alive" | "dead" | "unknown";

export interface OwnerLease {
  /** This server's lease, as written on the networks it creates. */
  own(): Promise<string>;
  /** Whether the holder of a lease (read from a network's labels) still runs. */
  liveness(lease: string): Promise<Liveness>;
}

/** Leases of this process, checked through /proc and the container runtime. */
export function processLease(runtime: Pick<ContainerRuntime, "inspectContainer">): OwnerLease {
  let own: Promise<string> | undefined;
  return {
    own() {
      own ??= (async () => {
        for (const candidate of ownContainerCandidates()) {
          const snap = await runtime.inspectContainer(candidate).catch(() => undefined);
          if (snap !== undefined) return `container:${snap.id}`;
        }
        const me = processIdentity(process.pid);
        return me === undefined ? "unknown:" : `process:${me.boot}:${me.pidNamespace}:${process.pid}:${me.startTime}`;
      })();
      return own;
    },
    async liveness(lease) {
      const [kind, ...rest] = lease.split(":");
      if (kind === "container" && rest[0] !== undefined && rest[0] !== "") {
        try {
          const snap = await runtime.inspectContainer(rest[0]);
          return snap?.state.running === true ? "alive" : "dead";
        } catch {
          return "unknown";
        }
      }
      if (kind === "process" && rest.length === 4) {
        const [boot, pidNamespace, pid, startTime] = rest as [string, string, string, string];
        const me = processIdentity(process.pid);
        if (me === undefined) return "unknown";
        if (boot !== me.boot) return "dead";
        if (pidNamespace !== me.pidNamespace) return "unknown";
        const holder = processIdentity(Number(pid));
        return holder !== undefined && holder.startTime === startTime ? "alive" : "dead";
      }
      return "unknown";
    },
  };
}

interface ProcessIdentity {
  boot: string;
  pidNamespace: string;
  /** Clock ticks since boot when the process started: a reused pid has another. */
  startTime: string;
}

function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const pidNamespace = /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "";
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    const startTime = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    if (boot === "" || pidNamespace === "" || startTime === undefined) return undefined;
    return { boot, pidNamespace, startTime };
  } catch {
    return undefined;
  }
}
