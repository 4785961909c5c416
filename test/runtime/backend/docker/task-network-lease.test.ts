// The lease on pooled task networks names the holder's process: any server in the same pid namespace can
// tell a live holder from a dead one (a pid reused by another process is dead too), a lease from another
// boot is dead, and one from another pid namespace is unknown. Real processes, real /proc.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { processLease } from "../../../../src/runtime/backend/docker/task-network-lease.ts";
import { FakeRuntime } from "../../../support/fake-runtime.ts";

const IMAGE = "example/app:1";

describe("processLease", () => {
  it("names this process on a host, and a child is alive until it exits", async () => {
    const lease = processLease(new FakeRuntime());
    const own = await lease.own();
    const [kind, boot, pidns, pid, start] = own.split(":");
    expect(kind).toBe("process");
    expect(Number(pid)).toBe(process.pid);
    expect(await lease.liveness(own)).toBe("alive");

    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    await once(child, "spawn");
    const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
    const childStart = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const childLease = `process:${boot}:${pidns}:${child.pid}:${childStart}`;
    expect(await lease.liveness(childLease)).toBe("alive");
    // The same pid with another start time is another process: the holder is gone.
    expect(await lease.liveness(`process:${boot}:${pidns}:${child.pid}:${Number(childStart) + 1}`)).toBe("dead");
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(await lease.liveness(childLease)).toBe("dead");

    expect(await lease.liveness(`process:another-boot:${pidns}:${pid}:${start}`)).toBe("dead");
    expect(await lease.liveness(`process:${boot}:1:${pid}:${start}`)).toBe("unknown");
    expect(await lease.liveness("something-else")).toBe("unknown");
  });

  it("a container holder is alive while its container runs", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const id = await fake.createContainer({ Image: IMAGE, Labels: {} });
    const lease = processLease(fake);
    expect(await lease.liveness(`container:${id}`)).toBe("dead");
    await fake.startContainer(id);
    expect(await lease.liveness(`container:${id}`)).toBe("alive");
    await fake.removeContainer(id);
    expect(await lease.liveness(`container:${id}`)).toBe("dead");
  });
});
