import { CreateClusterCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, type ContainerInstance } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startSecondDockerd, type SecondDockerd } from "../support/second-dockerd.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CLUSTER = `two-engines-${process.pid}`;

describe("container instances on two Docker engines", () => {
  let second: SecondDockerd;
  let t: TestServer;

  beforeAll(async () => {
    // Its own engine: the test stops and restarts it.
    second = await startSecondDockerd({ own: true });
    t = await startTestServer({
      docker: true,
      env: { CONTAINER_INSTANCES: `${CLUSTER}=unix:///var/run/docker.sock,${CLUSTER}=${second.host}` },
    });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await second?.dispose();
  });

  const describeAll = async (): Promise<ContainerInstance[]> => {
    const { containerInstanceArns } = await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }));
    return (await t.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: containerInstanceArns! }))).containerInstances!;
  };

  it("discovers each engine's resources and version as its agent would report them", async () => {
    const instances = await describeAll();
    expect(instances).toHaveLength(2);
    expect(new Set(instances.map((i) => i.ec2InstanceId)).size).toBe(2);
    for (const [ci, host] of [
      [instances[0]!, "unix:///var/run/docker.sock"],
      [instances[1]!, second.host],
    ] as const) {
      const [cpus, memory, version] = (await docker("-H", host, "info", "--format", "{{.NCPU}} {{.MemTotal}} {{.ServerVersion}}")).split(" ");
      expect(ci.agentConnected).toBe(true);
      expect(ci.versionInfo!.dockerVersion).toBe(`DockerVersion: ${version}`);
      expect(ci.registeredResources!.find((r) => r.name === "CPU")!.integerValue).toBe(Number(cpus) * 1024);
      expect(ci.registeredResources!.find((r) => r.name === "MEMORY")!.integerValue).toBe(Math.floor(Number(memory) / 2 ** 20));
    }
  });

  it("reports agentConnected false once the second engine stops, and true again when it is back", async () => {
    await second.stop();
    const down = await eventually("the second instance to be disconnected", async () => {
      const all = await describeAll();
      return all[1]!.agentConnected === false ? all : undefined;
    });
    expect(down[0]!.agentConnected).toBe(true);
    const filtered = await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER, filter: "agentConnected == false" }));
    expect(filtered.containerInstanceArns).toEqual([down[1]!.containerInstanceArn]);

    await second.restart();
    await eventually("the second instance to reconnect", async () => ((await describeAll())[1]!.agentConnected === true ? true : undefined), 60_000);
  }, 120_000);
});
