import { eventually } from "../support/eventually.ts";
import { afterAll, describe, expect, it } from "vitest";
import { startChildServer, removeDataDir, tempDataDir, type ChildServer } from "./support/child-server.ts";

// SIGKILL in the middle of a burst of writes: every acknowledged registration must survive, and
// revisions must stay contiguous (no gap, no duplicate) — WAL + synchronous write-through.
describe("store integrity", () => {
  const dataDir = tempDataDir();
  let server: ChildServer | undefined;

  afterAll(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  it("keeps every acknowledged RegisterTaskDefinition across a SIGKILL", { timeout: 60_000 }, async () => {
    server = await startChildServer({ dataDir, env: { LOG_LEVEL: "warn" } });
    const { port } = server;
    const family = "integrity";
    const acked = new Map<number, string>(); // revision → the image we sent, to check content too
    let killed = false;
    let sent = 0;
    const worker = async (w: number): Promise<void> => {
      while (!killed) {
        const image = `busybox:w${w}-n${sent++}`;
        let res: { status: number; json: any };
        try {
          res = await server!.call("RegisterTaskDefinition", {
            family,
            containerDefinitions: [{ name: "app", image, memory: 32 }],
          });
        } catch {
          return; // connection reset by the kill: not acknowledged
        }
        if (res.status === 200) {
          const revision = res.json.taskDefinition.revision as number;
          expect(acked.has(revision), `revision ${revision} acknowledged twice`).toBe(false);
          acked.set(revision, image);
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    // Kill mid-burst, once a good number of writes have been acknowledged.
    await eventually("500 acknowledged writes", () => (acked.size >= 500 ? true : undefined), 60_000, 5);
    const kill = server.kill("SIGKILL"); // the signal is sent synchronously; writes still in flight fail
    killed = true;
    await kill;
    await Promise.all(workers);
    expect(acked.size).toBeGreaterThanOrEqual(500);

    server = await startChildServer({ dataDir, port, env: { LOG_LEVEL: "warn" } });
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await server.call("ListTaskDefinitions", { familyPrefix: family, sort: "ASC", ...(nextToken === undefined ? {} : { nextToken }) });
      expect(res.status).toBe(200);
      arns.push(...res.json.taskDefinitionArns);
      nextToken = res.json.nextToken;
    } while (nextToken !== undefined);
    const revisions = arns.map((a) => Number(a.split(":").pop()));
    // Contiguous from 1, no duplicates.
    expect(revisions).toEqual(Array.from({ length: revisions.length }, (_, i) => i + 1));
    // Every acknowledged revision is there, with what was sent.
    const maxAcked = Math.max(...acked.keys());
    expect(revisions.length).toBeGreaterThanOrEqual(maxAcked);
    for (const [revision, image] of acked) {
      const res = await server.call("DescribeTaskDefinition", { taskDefinition: `${family}:${revision}` });
      expect(res.status, `revision ${revision}`).toBe(200);
      expect(res.json.taskDefinition.containerDefinitions[0].image).toBe(image);
    }
    // And the store still takes writes, continuing the sequence.
    const more = await server.call("RegisterTaskDefinition", { family, containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] });
    expect(more.status).toBe(200);
    expect(more.json.taskDefinition.revision).toBe(revisions.length + 1);
  });
});
