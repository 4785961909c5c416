import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildServer, removeDataDir, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";

const STATUS_ORDER = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"];

describe("concurrency", () => {
  const cluster = uniqueCluster("conc");
  const family = `${cluster}-app`;
  const dataDir = tempDataDir();
  let server: ChildServer;

  beforeAll(async () => {
    server = await startChildServer({ dataDir });
    expect((await server.call("CreateCluster", { clusterName: cluster })).status).toBe(200);
    const res = await server.call("RegisterTaskDefinition", {
      family,
      networkMode: "host",
      containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: TRAPPING_SLEEP }],
    });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  const listAll = async (desiredStatus: string): Promise<string[]> => {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const res = await server.call("ListTasks", { cluster, desiredStatus, ...(nextToken === undefined ? {} : { nextToken }) });
      expect(res.status).toBe(200);
      arns.push(...res.json.taskArns);
      nextToken = res.json.nextToken;
    } while (nextToken !== undefined);
    return arns;
  };

  it("50 distinct clientTokens + 50 calls reusing 10 tokens → exactly 60 tasks; concurrent Stop/Describe agree", { timeout: 120_000 }, async () => {
    const distinct = Array.from({ length: 50 }, (_, i) => `distinct-${i}`);
    const repeated = Array.from({ length: 50 }, (_, i) => `repeated-${i % 10}`);
    const answers = await Promise.all(
      [...distinct, ...repeated].map(async (clientToken) => {
        const res = await server.call("RunTask", { cluster, taskDefinition: family, clientToken });
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(res.json.tasks).toHaveLength(1);
        return { clientToken, arn: res.json.tasks[0].taskArn as string };
      }),
    );
    const byToken = new Map<string, Set<string>>();
    for (const a of answers) byToken.set(a.clientToken, (byToken.get(a.clientToken) ?? new Set()).add(a.arn));
    // Every repeated token answered the same task every time.
    for (const [token, arns] of byToken) expect(arns.size, token).toBe(1);
    const unique = [...new Set(answers.map((a) => a.arn))];
    expect(unique).toHaveLength(60);

    const listed = await listAll("RUNNING");
    expect(listed).toHaveLength(60);
    expect(new Set(listed)).toEqual(new Set(unique));

    await eventually(
      "60 tasks RUNNING",
      async () => {
        const res = await server.call("DescribeTasks", { cluster, tasks: unique });
        return res.json.tasks.every((t: any) => t.lastStatus === "RUNNING") ? true : undefined;
      },
      90_000,
    );

    // Stop every task twice while DescribeTasks runs alongside; every snapshot must be coherent and
    // versions must never go backwards.
    const lastVersion = new Map<string, number>();
    const problems: string[] = [];
    const check = (t: any): void => {
      if (!STATUS_ORDER.includes(t.lastStatus)) problems.push(`${t.taskArn} lastStatus ${t.lastStatus}`);
      if (t.lastStatus === "STOPPED" && t.desiredStatus !== "STOPPED") problems.push(`${t.taskArn} STOPPED but desired ${t.desiredStatus}`);
      if (t.lastStatus === "STOPPED" && t.stopCode === undefined) problems.push(`${t.taskArn} STOPPED without stopCode`);
      const prev = lastVersion.get(t.taskArn) ?? -1;
      if (t.version < prev) problems.push(`${t.taskArn} version went back ${prev} → ${t.version}`);
      lastVersion.set(t.taskArn, Math.max(prev, t.version));
    };
    let stopping = true;
    const describer = (async () => {
      while (stopping) {
        const res = await server.call("DescribeTasks", { cluster, tasks: unique.slice(0, 60) });
        expect(res.status).toBe(200);
        expect(res.json.tasks).toHaveLength(60);
        res.json.tasks.forEach(check);
      }
    })();
    const stops = await Promise.all(
      [...unique, ...unique].map(async (task, i) => {
        const res = await server.call("StopTask", { cluster, task, reason: i < 60 ? "first" : "second" });
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(res.json.task.desiredStatus).toBe("STOPPED");
        check(res.json.task);
        return res.json.task;
      }),
    );
    expect(stops).toHaveLength(120);
    const final = await eventually(
      "60 tasks STOPPED",
      async () => {
        const res = await server.call("DescribeTasks", { cluster, tasks: unique });
        return res.json.tasks.every((t: any) => t.lastStatus === "STOPPED") ? res.json.tasks : undefined;
      },
      60_000,
    );
    stopping = false;
    await describer;
    final.forEach(check);
    expect(problems).toEqual([]);
    for (const t of final) {
      expect(t.stopCode).toBe("UserInitiated");
      expect(["first", "second"]).toContain(t.stoppedReason);
    }
    expect(await listAll("RUNNING")).toEqual([]);
    const stoppedList = await listAll("STOPPED");
    expect(stoppedList).toHaveLength(60);
    expect(new Set(stoppedList)).toEqual(new Set(unique));
  });
});
