// Tasks across two Docker engines (two container instances of one cluster): each task runs on the engine
// of the instance placement chose, a task on the other engine reads its metadata and task-role credentials
// at AGENT_ADVERTISE_URL, and when that engine stops its tasks are reported DISCONNECTED, as ECS reports
// the tasks of an instance whose agent lost its connection.
import { CreateClusterCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand, type Task } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, removeClusterContainers, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { freePort } from "../support/free-port.ts";
import { startMoto, type MotoServer } from "../support/moto.ts";
import { startSecondDockerd, type SecondDockerd } from "../support/second-dockerd.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { startSocketProxy, type SocketProxy } from "../reliability/support/socket-proxy.ts";

const CLUSTER = `two-engine-tasks-${process.pid}`;
const LOCAL = "unix:///var/run/docker.sock";
const ROLE = "arn:aws:iam::123456789012:role/two-engines";

/** Prints the task metadata, then the task-role credentials (FULL_URI with its token, or the relative URI). */
const PROBE = [
  "sh",
  "-c",
  [
    "trap 'exit 0' TERM",
    'http-get "$ECS_CONTAINER_METADATA_URI_V4/task"; echo',
    'if [ -n "$AWS_CONTAINER_CREDENTIALS_FULL_URI" ]; then http-get "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN"; else http-get "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"; fi; echo',
    "while true; do sleep 1 & wait $!; done",
  ].join("; "),
];

describe("tasks on two Docker engines", () => {
  let moto: MotoServer;
  let second: SecondDockerd;
  /** The server reaches the second engine through it, so the test can make the engine vanish. */
  let proxy: SocketProxy;
  let t: TestServer;
  let advertised: string;

  beforeAll(async () => {
    moto = await startMoto();
    // Its own engine: the test needs its bridge address (AGENT_ADVERTISE_URL).
    second = await startSecondDockerd({ own: true });
    proxy = await startSocketProxy(`/tmp/lecs-two-engines-${process.pid}.sock`, new URL(second.host).pathname);
    advertised = `http://${second.gateway}:${await freePort()}`;
    t = await startTestServer({
      docker: true,
      env: {
        // Two engines on one host: their task networks must not share subnets (the host routes each to one bridge).
        CONTAINER_INSTANCES: `${CLUSTER}=${LOCAL},${CLUSTER}=unix://${proxy.path}?taskSubnetPool=10.219.0.0/16`,
        AGENT_ADVERTISE_URL: advertised,
        STS_ENDPOINT: moto.endpoint,
        IAM_ENDPOINT: moto.endpoint,
        ECS_ENDPOINT_AWS_ACCESS_KEY_ID: "testing",
        ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY: "testing",
      },
    });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "two-engines",
        taskRoleArn: ROLE,
        containerDefinitions: [{ name: "probe", image: TEST_IMAGE, memory: 32, stopTimeout: 2, command: PROBE }],
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await removeClusterContainers(CLUSTER);
    await second?.dispose();
    await moto?.stop();
  });

  const describeTasks = async (arns: string[]): Promise<Task[]> => (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: arns }))).tasks!;

  it("runs each task on its instance's engine; the remote one reaches the agent at AGENT_ADVERTISE_URL; an engine that vanishes disconnects its tasks", async () => {
    const run = await t.ecs.send(
      new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "two-engines", count: 6, placementStrategy: [{ type: "spread", field: "instanceId" }] }),
    );
    expect(run.failures).toEqual([]);
    const arns = run.tasks!.map((task) => task.taskArn!);
    // spread on instanceId: 3 and 3.
    const perInstance = new Map<string, number>();
    for (const task of run.tasks!) perInstance.set(task.containerInstanceArn!, (perInstance.get(task.containerInstanceArn!) ?? 0) + 1);
    expect([...perInstance.values()]).toEqual([3, 3]);
    const instances = (await t.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [...perInstance.keys()] }))).containerInstances!;
    expect(instances.map((i) => i.runningTasksCount! + i.pendingTasksCount!)).toEqual([3, 3]);

    const all = await eventually("every task RUNNING", async () => {
      const tasks = await describeTasks(arns);
      return tasks.every((x) => x.lastStatus === "RUNNING") ? tasks : undefined;
    }, 90_000);

    // Which engine holds which task: the container exists on that engine only.
    const engineOf = async (task: Task): Promise<string> => {
      const id = task.containers![0]!.runtimeId!;
      const here = await docker("-H", LOCAL, "inspect", "--format", "{{.Id}}", id).catch(() => "");
      const there = await docker("-H", second.host, "inspect", "--format", "{{.Id}}", id).catch(() => "");
      expect([here, there].filter((x) => x === id)).toHaveLength(1);
      return here === id ? LOCAL : second.host;
    };
    const allEngines = await Promise.all(all.map(engineOf));
    expect(allEngines.filter((e) => e === LOCAL)).toHaveLength(3);
    // The instance's engine is the task's engine.
    for (const [i, task] of all.entries()) {
      expect(allEngines.filter((e, j) => all[j]!.containerInstanceArn === task.containerInstanceArn).every((e) => e === allEngines[i])).toBe(true);
    }
    const remote = all[allEngines.indexOf(second.host)]!;
    const local = all[allEngines.indexOf(LOCAL)]!;
    for (const task of all) if (task !== remote && task !== local) await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: task.taskArn! }));

    for (const [task, host] of [
      [remote, second.host],
      [local, LOCAL],
    ] as const) {
      const id = task.containers![0]!.runtimeId!;
      const out = await eventually(`the probe's output on ${host}`, async () => {
        const logs = await docker("-H", host, "logs", id);
        return logs.includes("AccessKeyId") ? logs : undefined;
      }, 30_000).catch(async (err: unknown) => {
        const probe = await docker("-H", host, "exec", id, "sh", "-c", 'ip route; ip addr | grep inet; http-get "$ECS_CONTAINER_METADATA_URI_V4"; echo rc=$?').catch((e: unknown) => String(e));
        throw new Error(`${(err as Error).message}; output: ${await docker("-H", host, "logs", id)}; probe: ${probe}; ps: ${await docker("-H", host, "top", id).catch(() => "")}`);
      });
      expect(out).toContain(`"TaskARN":"${task.taskArn}"`);
      expect(out).toContain(`"RoleArn":"${ROLE}"`);
    }
    const remoteEnv = await docker("-H", second.host, "inspect", "--format", "{{json .Config.Env}}", remote.containers![0]!.runtimeId!);
    expect(remoteEnv).toContain(`AWS_CONTAINER_CREDENTIALS_FULL_URI=${advertised}/v2/credentials/`);
    expect(remoteEnv).toContain(`ECS_CONTAINER_METADATA_URI_V4=${advertised}/v4/`);

    // The engine vanishes for the server (its containers go on running): that instance's agent is disconnected.
    proxy.refuse(true);
    proxy.cutAll();
    const cut = await eventually("the remote task to be reported DISCONNECTED", async () => {
      const tasks = await describeTasks([remote.taskArn!, local.taskArn!]);
      return tasks[0]!.connectivity === "DISCONNECTED" ? tasks : undefined;
    }, 60_000);
    expect(cut[0]!.connectivityAt!.getTime()).toBeGreaterThan(remote.connectivityAt!.getTime());
    expect(cut[0]!.lastStatus).toBe("RUNNING");
    expect(cut[1]!.connectivity).toBe("CONNECTED");

    // Back: the engine's tasks are connected again and reconciled with what the engine says.
    proxy.refuse(false);
    await eventually("the remote task to be connected again", async () => ((await describeTasks([remote.taskArn!]))[0]!.connectivity === "CONNECTED" ? true : undefined), 60_000);

    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: local.taskArn! }));
  }, 240_000);
});
