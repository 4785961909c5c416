// Live logs through the console's stream, against real Docker (through the engine and the Docker backend).
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, waitUntilTasksRunning, waitUntilTasksStopped } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeClusterContainers, TEST_IMAGE } from "../../support/docker.ts";
import { startTestServer, type TestServer } from "../../support/server.ts";
import { collectSse } from "../../support/sse.ts";

const CLUSTER = `console-logs-${process.pid}`;

describe("container logs in the console (real Docker)", () => {
  let t: TestServer;
  const logsUrl = (taskArn: string, container: string, extra = ""): string =>
    `${t.url}/console/api/logs?task=${encodeURIComponent(taskArn)}&container=${encodeURIComponent(container)}${extra}`;
  const lines = (events: Array<{ event: string; data: any }>): Array<[string, string]> => events.filter((e) => e.event === "line").map((e) => [e.data.stream, e.data.text]);
  const runStopped = async (family: string): Promise<string> => {
    const { tasks } = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
    const taskArn = tasks![0]!.taskArn!;
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1 }, { cluster: CLUSTER, tasks: [taskArn] });
    return taskArn;
  };

  beforeAll(async () => {
    // awslogs containers ship to an unreachable CloudWatch Logs here; locally they still log to json-file.
    t = await startTestServer({ docker: true, env: { LOGS_ENDPOINT_URL: "http://127.0.0.1:9" } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    const script = "echo out 1; echo err 1 >&2; echo out 2; printf 'no newline'";
    await t.ecs.send(new RegisterTaskDefinitionCommand({ family: "logs-plain", containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 32, command: ["sh", "-c", script] }] }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "logs-awslogs",
        containerDefinitions: [
          {
            name: "app",
            image: TEST_IMAGE,
            memory: 32,
            command: ["sh", "-c", "echo shipped and shown"],
            logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/ecs/console", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs" } },
          },
        ],
      }),
    );
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "logs-long",
        containerDefinitions: [{ name: "ticker", image: TEST_IMAGE, memory: 32, stopTimeout: 2, command: ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"] }],
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
    await removeClusterContainers(CLUSTER);
  });

  it("reads a stopped container's stdout and stderr, each in order, then ends", async () => {
    const taskArn = await runStopped("logs-plain");
    const events = await collectSse(logsUrl(taskArn, "app"), (e) => e.event === "end");
    // Docker copies the two streams separately, so only each stream's own order is certain.
    const of = (stream: string): string[] => lines(events).filter(([s]) => s === stream).map(([, text]) => text);
    expect(of("stdout")).toEqual(["out 1", "out 2", "no newline"]);
    expect(of("stderr")).toEqual(["err 1"]);
    expect(events.find((e) => e.event === "line")!.data.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,9}Z$/);
    expect(events.at(-1)).toEqual({ event: "end", data: { reason: "The container's output ended." } });
    // since: a reader that lost its stream resumes from the last line it has (Docker repeats that instant).
    const stdout = events.filter((e) => e.event === "line" && e.data.stream === "stdout");
    const from = stdout[1]!.data.time as string;
    expect(from).toMatch(/\.\d{9}Z$/);
    const resumed = (await collectSse(logsUrl(taskArn, "app", `&since=${encodeURIComponent(from)}`), (e) => e.event === "end")).filter((e) => e.event === "line");
    // From that millisecond on (inclusive); the page drops what it already has by comparing the times.
    expect(resumed.every((e) => e.data.time.slice(0, 23) >= from.slice(0, 23))).toBe(true);
    expect(resumed.map((e) => e.data.text)).toContain("out 2");
    expect(resumed.filter((e) => e.data.stream === "stdout" && e.data.time > from).map((e) => e.data.text)).toEqual(["no newline"]);
    // tail: only the last lines.
    expect(lines(await collectSse(logsUrl(taskArn, "app", "&tail=1"), (e) => e.event === "end"))).toEqual([["stdout", "no newline"]]);
  });

  it("shows awslogs containers too (they run with json-file locally)", async () => {
    const taskArn = await runStopped("logs-awslogs");
    const events = await collectSse(logsUrl(taskArn, "app"), (e) => e.event === "end");
    expect(lines(events)).toEqual([["stdout", "shipped and shown"]]);
  });

  it("follows a running container until it stops", async () => {
    const { tasks } = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "logs-long" }));
    const taskArn = tasks![0]!.taskArn!;
    await waitUntilTasksRunning({ client: t.ecs, maxWaitTime: 60, minDelay: 1 }, { cluster: CLUSTER, tasks: [taskArn] });
    // Lines written after the reader came, as they are written.
    let seen = 0;
    const ticks = await collectSse(logsUrl(taskArn, "ticker", "&tail=0"), (e) => e.event === "line" && ++seen === 3, 60_000);
    const numbers = lines(ticks).map(([, text]) => Number(text.replace("tick ", "")));
    expect(numbers).toEqual([numbers[0], numbers[0]! + 1, numbers[0]! + 2]);
    // Stopping the task ends a follower's stream.
    const follower = collectSse(logsUrl(taskArn, "ticker", "&tail=0"), (e) => e.event === "end", 60_000);
    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    const end = (await follower).at(-1)!;
    expect(end).toEqual({ event: "end", data: { reason: "The container's output ended." } });
  });

  it("explains what cannot be read", async () => {
    const taskArn = await runStopped("logs-plain");
    const [noSuchContainer] = await collectSse(logsUrl(taskArn, "nope"), (e) => e.event === "end");
    expect(noSuchContainer!.data.reason).toBe("The task has no container named nope.");
    const [noSuchTask] = await collectSse(logsUrl(taskArn.replace(/[0-9a-f]{32}$/, "0".repeat(32)), "app"), (e) => e.event === "end");
    expect(noSuchTask!.data.reason).toMatch(/does not exist/);
  });
});
