import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerExecBackend, EXEC_TAG_VARIABLE } from "../../../../src/runtime/backend/docker/docker-exec-backend.ts";
import type { ExecProcess } from "../../../../src/runtime/exec/exec-backend.ts";
import { silentLogger } from "../../../../src/runtime/logger.ts";
import { docker, TEST_IMAGE } from "../../../support/docker.ts";
import { eventually } from "../../../support/eventually.ts";

// The Docker implementation on its own, against a real container: what it runs, how, and that killing
// leaves nothing behind whichever way it finds the processes.
describe("DockerExecBackend (real Docker)", () => {
  const name = `lecs-exec-backend-${process.pid}`;
  // (A subshell's background job is re-parented to the container's PID 1: only its environment says whose it is.)
  let id: string;
  const client = new Docker();

  const processes = async (): Promise<string[]> => (await docker("top", id, "-o", "pid,args")).split("\n").slice(1);
  const read = (p: ExecProcess): (() => string) => {
    let text = "";
    p.output.on("data", (d: Buffer) => (text += d.toString()));
    return () => text;
  };

  beforeAll(async () => {
    id = await docker("run", "-d", "--network", "none", "--name", name, "--label", "local-ecs-api-test=exec-backend", "-e", "LANG=en_US.UTF-8", "--user", "nobody", TEST_IMAGE, "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait");
  });

  afterAll(async () => {
    await docker("rm", "-f", name).catch(() => "");
  });

  it("runs the command with a terminal, as the given user, with env and env defaults, resizable", async () => {
    const backend = new DockerExecBackend(client, silentLogger);
    const p = await backend.start(id, {
      argv: ["/bin/sh"],
      tty: true,
      user: "0",
      env: { TERM: "xterm-256color" },
      envDefaults: { LANG: "C.UTF-8", EXTRA: "yes" },
      tag: "tag-1",
    });
    const text = read(p);
    await p.resize(111, 33);
    p.stdin.write(`echo "u=$(id -u) t=$TERM l=$LANG e=$EXTRA x=$${EXEC_TAG_VARIABLE}"; stty size; exit 5\r`);
    expect(await p.wait()).toBe(5);
    // The container's own LANG is kept; the default fills only what it lacks; root despite the container's user.
    expect(text()).toContain("u=0 t=xterm-256color l=en_US.UTF-8 e=yes x=tag-1");
    expect(text()).toContain("33 111");
    await p.kill();
  });

  it("merges stdout and stderr without a terminal", async () => {
    const backend = new DockerExecBackend(client, silentLogger);
    const p = await backend.start(id, { argv: ["sh", "-c", "echo out; echo err >&2; exit 2"], tty: false, tag: "tag-2" });
    const text = read(p);
    expect(await p.wait()).toBe(2);
    expect(text()).toMatch(/out\n[\s\S]*err\n|err\n[\s\S]*out\n/);
  });

  it.each([["container" as const], ["host" as const]])("kills the command and its children (found via the %s)", async (via) => {
    const backend = new DockerExecBackend(client, silentLogger, { killVia: [via] });
    const p = await backend.start(id, { argv: ["/bin/sh"], tty: true, user: "0", tag: `kill-${via}` });
    p.stdin.write("sleep 311 &\r(sleep 312 &)\rsleep 313\r");
    await eventually("the shell and its three sleeps", async () => ((await processes()).length === 6 ? true : undefined));
    await p.kill();
    expect(await processes()).toHaveLength(2);
    expect(await p.wait()).not.toBe(0);
  });

  it("reaps a tag nobody holds any more, and tolerates a container that is gone", async () => {
    const backend = new DockerExecBackend(client, silentLogger);
    const p = await backend.start(id, { argv: ["sh", "-c", "sleep 321 & sleep 322"], tty: true, tag: "orphan" });
    const has = async (text: string): Promise<boolean> => (await processes()).some((l) => l.includes(text));
    await eventually("the orphan's processes", async () => ((await has("sleep 321")) && (await has("sleep 322")) ? true : undefined));
    p.output.destroy();
    await expect(backend.reap(id, { tag: "orphan" })).resolves.toBe(true);
    expect(await processes()).toHaveLength(2);
    await expect(backend.reap("0".repeat(64), { tag: "orphan" })).resolves.toBe(true);
  });

  it("says so when the engine does not answer (the orphans may still be there: try again later)", async () => {
    const down = new DockerExecBackend(new Docker({ socketPath: `/tmp/lecs-no-docker-${process.pid}.sock` }), silentLogger);
    await expect(down.reap(id, { tag: "orphan" })).resolves.toBe(false);
  });

  it("leaves a session's own processes alone when reaping another tag", async () => {
    const backend = new DockerExecBackend(client, silentLogger);
    const p = await backend.start(id, { argv: ["sleep", "331"], tty: true, tag: "mine" });
    await eventually("sleep 331", async () => ((await processes()).some((l) => l.includes("sleep 331")) ? true : undefined));
    await backend.reap(id, { tag: "someone-else", user: "0" });
    expect((await processes()).some((l) => l.includes("sleep 331"))).toBe(true);
    await p.kill();
    expect(await processes()).toHaveLength(2);
  });

  it("runs commands in a container without /bin/sh directly, and kills them through the host", async () => {
    const bare = await docker("run", "-d", "--network", "none", "--label", "local-ecs-api-test=exec-backend", TEST_IMAGE, "sleep", "3600");
    try {
      await docker("exec", bare, "rm", "/bin/sh");
      const backend = new DockerExecBackend(client, silentLogger);
      const p = await backend.start(bare, { argv: ["sleep", "351"], tty: true, user: "0", tag: "no-shell" });
      const top = async (): Promise<string> => docker("top", bare, "-o", "pid,args");
      await eventually("sleep 351", async () => ((await top()).includes("sleep 351") ? true : undefined));
      await p.kill();
      expect(await top()).not.toContain("sleep 351");
    } finally {
      await docker("rm", "-f", bare).catch(() => "");
    }
  });
});
