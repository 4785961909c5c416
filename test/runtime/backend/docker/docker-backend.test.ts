import { afterEach, describe, expect, it } from "vitest";
import type { TaskEngine } from "../../../../src/runtime/engine/task-engine.ts";
import { FakeRuntime } from "../../../support/fake-runtime.ts";
import { container, dockerBackend, isStatus, makeEngine, spec, taskDefinition } from "../../engine/engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;

let engines: TaskEngine[] = [];
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function setup(options: Parameters<typeof makeEngine>[1] & { backend?: Parameters<typeof dockerBackend>[1] } = {}) {
  const fake = new FakeRuntime();
  fake.images.add(IMAGE);
  const made = makeEngine(dockerBackend(fake, options.backend), options);
  engines.push(made.engine);
  await made.engine.start();
  return { fake, ...made };
}

// The Docker backend under the engine, on a fake Docker: what each ECS step becomes in Docker calls (names,
// labels, networks, create options, the pause container). The engine's behaviour itself is covered by the
// shared suite (test/runtime/engine/engine-behaviour.ts) on the fake backend and on real Docker.
describe("Docker backend (fake Docker)", () => {
  it("runs a one-container task PENDING → RUNNING → STOPPED with the exit code", async () => {
    const { fake, engine } = await setup();
    const seen: string[] = [];
    engine.subscribe((t) => {
      if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus ?? "");
    });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE, cpu: 128, memory: 64 }])));
    expect(task).toMatchObject({ lastStatus: "PENDING", desiredStatus: "RUNNING", version: 1, group: "family:fam", launchType: "EC2" });
    expect(task.overrides).toEqual({ containerOverrides: [{ name: "app" }], inferenceAcceleratorOverrides: [] });
    expect(container(task, "app")).toMatchObject({ lastStatus: "PENDING", cpu: "128", memory: "64", healthStatus: "UNKNOWN" });

    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(up.startedAt).toBeInstanceOf(Date);
    expect(up.pullStartedAt).toBeInstanceOf(Date);
    expect(up.pullStoppedAt).toBeInstanceOf(Date);
    const c = fake.find("app", task.taskArn)!;
    expect(container(up, "app")).toMatchObject({ lastStatus: "RUNNING", runtimeId: c.id, imageDigest: expect.stringMatching(/^sha256:/) });
    expect(c.labels["local-ecs-api.managed"]).toBe("true");
    const network = c.options.HostConfig?.NetworkMode ?? "";
    expect(network).toMatch(/^ecs-task-net-[0-9a-f]{12}$/);
    expect(fake.networks.get(network)?.labels).toMatchObject({ "com.amazonaws.ecs.cluster": "default", "local-ecs-api.managed": "true" });

    fake.exit(c.id, 3);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ desiredStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" });
    expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 3 });
    expect(down.executionStoppedAt).toBeInstanceOf(Date);
    expect(down.stoppingAt).toBeInstanceOf(Date);
    expect(down.stoppedAt).toBeInstanceOf(Date);
    expect(down.version).toBeGreaterThan(up.version!);
    expect(seen).toEqual(["PENDING", "RUNNING", "STOPPING", "STOPPED"]);
    // The network went back to the pool with nothing of the task left on it.
    expect(fake.networks.has(network)).toBe(true);
    expect(await fake.inspectNetwork(network)).toMatchObject({ containers: [] });
  });

  it("without the network pool: one ecs-task-<id> network per task, removed when it stops", async () => {
    const { fake, engine } = await setup({ backend: { networkPool: false } });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const c = fake.find("app", task.taskArn)!;
    expect(c.options.HostConfig?.NetworkMode).toBe(`ecs-task-${task.taskArn!.split("/").pop()}`);
    fake.exit(c.id, 0);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(fake.networks.size).toBe(0);
    expect(fake.calls.filter((x) => x.startsWith("network-"))).toEqual([`network-create ecs-task-${task.taskArn!.split("/").pop()}`, `network-remove ecs-task-${task.taskArn!.split("/").pop()}`]);
  });

  it("a non-essential exit changes nothing; an essential exit stops the others", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "main", image: IMAGE },
      { name: "side", image: IMAGE, essential: false },
      { name: "other", image: IMAGE, essential: false },
    ]);
    const task = engine.runTask(spec(td));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    fake.exit(fake.find("side", task.taskArn)!.id, 0);
    const afterSide = await engine.waitFor(task.taskArn!, (t) => container(t, "side").lastStatus === "STOPPED", T);
    expect(afterSide).toMatchObject({ lastStatus: "RUNNING", desiredStatus: "RUNNING" });

    fake.exit(fake.find("main", task.taskArn)!.id, 0);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.stopCode).toBe("EssentialContainerExited");
    expect(container(down, "other")).toMatchObject({ lastStatus: "STOPPED", exitCode: 143 });
    expect(fake.calls).toContain("stop other t=2");
  });

  it("StopTask: docker stop of dependents first, each with its stopTimeout as t", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "db", image: IMAGE, stopTimeout: 7 },
      { name: "app", image: IMAGE, links: ["db:database"] },
      { name: "proxy", image: IMAGE, dependsOn: [{ containerName: "app", condition: "START" }] },
    ]);
    const task = engine.runTask(spec(td));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.calls.filter((c) => c.startsWith("start"))).toEqual(["start db", "start app", "start proxy"]);
    fake.find("db", task.taskArn)!.ignoresSigterm = true;

    const stopped = engine.stopTask(task.taskArn!, "testing stop")!;
    expect(stopped).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "testing stop" });
    expect(stopped.stoppingAt).toBeInstanceOf(Date);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(fake.calls.filter((c) => c.startsWith("stop"))).toEqual(["stop proxy t=2", "stop app t=2", "stop db t=7"]);
    expect(container(down, "db").exitCode).toBe(137);
    expect(down.stoppedReason).toBe("testing stop");

  });

  it("create and start failures name their error", async () => {
    const { fake, engine } = await setup();
    fake.createFailures.set("a", "invalid mount config");
    const t1 = engine.runTask(spec(taskDefinition([{ name: "a", image: IMAGE }])));
    const d1 = await engine.waitFor(t1.taskArn!, isStatus("STOPPED"), T);
    expect(d1.stoppedReason).toBe("CannotCreateContainerError: invalid mount config");
    fake.startFailures.set("b", 'exec: "nope": executable file not found in $PATH');
    const t2 = engine.runTask(spec(taskDefinition([{ name: "b", image: IMAGE }])));
    const d2 = await engine.waitFor(t2.taskArn!, isStatus("STOPPED"), T);
    expect(d2).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: expect.stringMatching(/^CannotStartContainerError: exec/) });
  });

  it("reports dynamic host ports and applies overrides", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "web", image: IMAGE, portMappings: [{ containerPort: 80 }], command: ["old"], environment: [{ name: "A", value: "1" }] },
    ]);
    const task = engine.runTask(
      spec(td, { overrides: { containerOverrides: [{ name: "web", command: ["new"], environment: [{ name: "B", value: "2" }], memory: 32 }] } }),
    );
    expect(task.overrides?.containerOverrides).toEqual([{ name: "web", command: ["new"], environment: [{ name: "B", value: "2" }], memory: 32 }]);
    expect(container(task, "web").memory).toBe("32");
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(container(up, "web").networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 49153, protocol: "tcp" }]);
    const c = fake.find("web", task.taskArn)!;
    expect(c.options.Cmd).toEqual(["new"]);
    expect(c.options.Env).toEqual(expect.arrayContaining(["A=1", "B=2"]));
  });

  it("awsvpc walks PROVISIONING … STOPPED with an ENI attachment and a pause container", async () => {
    const { fake, engine } = await setup();
    const seen: string[] = [];
    engine.subscribe((t) => {
      if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus ?? "");
    });
    const td = taskDefinition([{ name: "web", image: IMAGE, portMappings: [{ containerPort: 8080 }] }], { networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"] });
    const task = engine.runTask(spec(td, { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-123"] } } }));
    expect(task).toMatchObject({ lastStatus: "PROVISIONING", launchType: "FARGATE", platformVersion: "1.4.0", platformFamily: "Linux" });
    expect(task.attachments?.[0]).toMatchObject({ type: "ElasticNetworkInterface", status: "PRECREATED" });
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const eni = up.attachments![0]!;
    expect(eni.status).toBe("ATTACHED");
    const ip = eni.details?.find((d) => d.name === "privateIPv4Address")?.value;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(eni.details?.find((d) => d.name === "subnetId")?.value).toBe("subnet-123");
    expect(container(up, "web").networkInterfaces).toEqual([{ attachmentId: eni.id, privateIpv4Address: ip }]);
    const pause = fake.find("~internal~ecs~pause", task.taskArn)!;
    expect(pause.options.Entrypoint).toEqual(["sleep"]);
    expect(fake.find("web", task.taskArn)!.options.HostConfig?.NetworkMode).toBe(`container:${pause.id}`);
    expect(container(up, "web").networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 8080, hostPort: expect.any(Number), protocol: "tcp" }]);

    engine.stopTask(task.taskArn!);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.attachments![0]!.status).toBe("DELETED");
    expect(seen).toEqual(["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);
    expect(fake.find("~internal~ecs~pause", task.taskArn)).toBeUndefined();
  });

  it("hooks add env and see container starts and task stops", async () => {
    const { fake, engine } = await setup();
    const started: string[] = [];
    const stopped: string[] = [];
    engine.use({
      beforeCreate: async (ctx) => ({ env: { ECS_CONTAINER_METADATA_URI_V4: `http://169.254.170.2/v4/${ctx.containerName}` } }),
      onContainerStarted: (_t, name) => started.push(name),
      onTaskStopped: (t) => stopped.push(t.taskArn!),
    });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.find("app", task.taskArn)!.options.Env).toContain("ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/app");
    expect(started).toEqual(["app"]);
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(stopped).toEqual([task.taskArn]);
  });

  it("clean-up removes the task's containers and task-scoped volumes", async () => {
    const { fake, engine } = await setup({ cleanupDelayMs: 0 });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }], { volumes: [{ name: "scratch" }] })));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.volumes.size).toBe(1);
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    await expect.poll(() => fake.containers.size, { timeout: T }).toBe(0);
    await expect.poll(() => fake.volumes.size, { timeout: T }).toBe(0);
  });
});
