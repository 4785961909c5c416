// ECS Task State Change events of real tasks (real Docker) delivered with PutEvents to moto's EventBridge,
// routed by real rules to real SQS queues, as a user's EventBridge → SQS set-up would see them.
import { CreateClusterCommand, RegisterTaskDefinitionCommand, RunTaskCommand, waitUntilTasksStopped } from "@aws-sdk/client-ecs";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy } from "../reliability/support/socket-proxy.ts";
import { removeClusterContainers, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startMoto, type MotoServer } from "../support/moto.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CLUSTER = `e2e-events-${process.pid}`;
const RANK: Record<string, number> = { PROVISIONING: 0, PENDING: 1, ACTIVATING: 2, RUNNING: 3, DEACTIVATING: 4, STOPPING: 5, DEPROVISIONING: 6, STOPPED: 7 };

interface Received {
  detailType: string;
  lastStatus: string;
  version: number;
  event: any;
}

/** Every message of a queue so far, by task ARN, in arrival order. */
class QueueReader {
  readonly byTask = new Map<string, Received[]>();
  readonly #sqs: SQSClient;
  readonly #url: string;
  constructor(sqs: SQSClient, url: string) {
    this.#sqs = sqs;
    this.#url = url;
  }
  async read(): Promise<void> {
    const { Messages = [] } = await this.#sqs.send(new ReceiveMessageCommand({ QueueUrl: this.#url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of Messages) {
      const event = JSON.parse(m.Body ?? "{}");
      const arn = event.resources?.[0] as string;
      const list = this.byTask.get(arn) ?? [];
      list.push({ detailType: event["detail-type"], lastStatus: event.detail?.lastStatus, version: event.detail?.version, event });
      this.byTask.set(arn, list);
    }
    if (Messages.length > 0) {
      await this.#sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.#url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
  /** The task's events once its STOPPED one arrived. */
  untilStopped(taskArn: string): Promise<Received[]> {
    return eventually(`the STOPPED event of ${taskArn}`, async () => {
      await this.read();
      const list = this.byTask.get(taskArn) ?? [];
      return list.some((r) => r.lastStatus === "STOPPED") ? list : undefined;
    }, 60_000, 0);
  }
}

function expectInOrder(events: Received[]): void {
  const statuses = events.map((e) => e.lastStatus);
  expect(statuses.filter((s, i) => s !== statuses[i - 1]).filter((s) => ["PENDING", "RUNNING", "STOPPED"].includes(s))).toEqual(["PENDING", "RUNNING", "STOPPED"]);
  for (let i = 1; i < events.length; i++) {
    expect(RANK[events[i]!.lastStatus]!).toBeGreaterThanOrEqual(RANK[events[i - 1]!.lastStatus]!);
    expect(events[i]!.version).toBeGreaterThan(events[i - 1]!.version);
  }
}

describe("ECS events delivered to EventBridge (moto) and routed to SQS", () => {
  let moto: MotoServer;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let t: TestServer;
  let stopped: QueueReader;
  let all: QueueReader;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startTcpProxy(moto.port);
    const aws = { endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials };
    const sqs = new SQSClient(aws);
    const eb = new EventBridgeClient(aws);
    const queue = async (name: string, rule: string, pattern: unknown): Promise<QueueReader> => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
      await eb.send(new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify(pattern) }));
      await eb.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: "sqs", Arn: Attributes!["QueueArn"]! }] }));
      return new QueueReader(sqs, QueueUrl!);
    };
    stopped = await queue("stopped-tasks", "ecs-task-stopped", { source: ["aws.ecs"], "detail-type": ["ECS Task State Change"], detail: { lastStatus: ["STOPPED"] } });
    all = await queue("all-task-changes", "ecs-task-changes", { source: ["aws.ecs"], "detail-type": ["ECS Task State Change"] });
    t = await startTestServer({ docker: true, env: { EVENTS_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}` } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "events-exit",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 32, command: ["sh", "-c", "echo working; sleep 1; exit 3"] }],
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
    await removeClusterContainers(CLUSTER);
    await proxy?.close();
    await moto?.stop();
  });

  const runTask = async (): Promise<string> => {
    const { tasks } = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "events-exit" }));
    return tasks![0]!.taskArn!;
  };

  it("a rule on lastStatus STOPPED delivers the stopped task, with its exit code, to the queue", async () => {
    const taskArn = await runTask();
    const events = await stopped.untilStopped(taskArn);
    // The pattern matched only the STOPPED change.
    expect(events.map((e) => e.lastStatus)).toEqual(["STOPPED"]);
    const e = events[0]!.event;
    expect(e).toMatchObject({ source: "aws.ecs", "detail-type": "ECS Task State Change", region: "us-east-1", resources: [taskArn] });
    expect(e.detail).toMatchObject({
      taskArn,
      lastStatus: "STOPPED",
      desiredStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
      containers: [{ name: "app", lastStatus: "STOPPED", exitCode: 3 }],
    });
    expect(e.detail.stoppedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/);
  });

  it("a rule on every task state change receives PENDING, RUNNING and STOPPED in order", async () => {
    const taskArn = await runTask();
    expectInOrder(await all.untilStopped(taskArn));
  });

  it("loses nothing while the endpoint is down for 5 s", async () => {
    proxy.refuse(true);
    proxy.cutAll();
    const down = Date.now();
    const taskArn = await runTask();
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1 }, { cluster: CLUSTER, tasks: [taskArn] });
    // The outage itself is the scenario: at least 5 s without an endpoint.
    await new Promise((r) => setTimeout(r, Math.max(0, 5000 - (Date.now() - down))));
    await all.read();
    expect(all.byTask.get(taskArn)).toBeUndefined();
    proxy.refuse(false);
    expectInOrder(await all.untilStopped(taskArn));
  });
});
