import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateServiceCommand, DescribeTasksCommand, ListTasksCommand, type ECSClient, type Task } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { docker, eventually, IMAGE, removeCluster, uniqueCluster } from "../reliability/support/docker.ts";
import { startMoto, type MotoServer } from "../support/moto.ts";

const run = promisify(execFile);

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return { ...env, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "", AWS_CONFIG_FILE: "/dev/null" };
}

/** The AWS CLI v2 at an endpoint; parsed JSON output. */
async function aws(endpoint: string, ...args: string[]): Promise<any> {
  const { stdout } = await run("/usr/bin/aws", [...args, "--endpoint-url", endpoint, "--output", "json"], { env: cliEnv(), timeout: 240_000 });
  return stdout.trim() === "" ? {} : JSON.parse(stdout);
}

// busybox sh as PID 1 ignores SIGTERM unless it traps it.
const API = 'trap "exit 0" TERM; mkdir -p /www; echo hello from api > /www/index.html; httpd -f -p 8080 -h /www & wait';
// web answers /cgi-bin/call by calling the api service by its Service Connect name. It is an awsvpc task, whose
// port the emulator publishes on the same host port: a random one, so parallel runs do not collide.
const WEB_PORT = 20_000 + Math.floor(Math.random() * 10_000);
const WEB = [
  'trap "exit 0" TERM; mkdir -p /www/cgi-bin',
  // CRLF after the CGI header: Node's HTTP parser refuses bare LF line ends.
  `printf '#!/bin/sh\\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\n"\\necho "web -> $(wget -qO- http://api:8080/)"\\n' > /www/cgi-bin/call`,
  `chmod +x /www/cgi-bin/call; httpd -f -p ${WEB_PORT} -h /www & wait`,
].join("; ");

describe("a two-service app on real Docker: Service Connect names, ELBv2 targets and Cloud Map instances in moto (AWS CLI v2)", () => {
  // api runs two bridge tasks, one on each of two container instances (two on the local engine), behind an
  // instance target group; web is an awsvpc task.
  const cluster = uniqueCluster("sc");
  const dataDir = tempDataDir();
  const files = mkdtempSync(join(tmpdir(), "lecs-sc-"));
  let moto: MotoServer;
  let server: ChildServer;
  let ecs: ECSClient;
  let targetGroupArn = "";
  let bareTargetGroupArn = "";
  let ipTargetGroupArn = "";
  let registryArn = "";
  let registryId = "";
  const ecsCli = (...args: string[]): Promise<any> => aws(server.url, "ecs", ...args);
  const motoCli = (...args: string[]): Promise<any> => aws(moto.endpoint, ...args);
  const tasksOf = async (service: string): Promise<Task[]> => {
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, serviceName: service }));
    return taskArns!.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns! }))).tasks!;
  };
  const hostPortOf = (t: Task): number => t.containers![0]!.networkBindings![0]!.hostPort!;
  const ec2IdOf = async (t: Task): Promise<string> =>
    (await ecsCli("describe-container-instances", "--cluster", cluster, "--container-instances", t.containerInstanceArn!)).containerInstances[0].ec2InstanceId;
  const targets = async (): Promise<Array<{ id: string; port: number; state: string }>> => {
    const out = await motoCli("elbv2", "describe-target-health", "--target-group-arn", targetGroupArn);
    return (out.TargetHealthDescriptions as any[]).map((d) => ({ id: d.Target.Id, port: d.Target.Port, state: d.TargetHealth.State })).sort((a, b) => a.id.localeCompare(b.id));
  };
  const instances = async (): Promise<Array<{ Id: string; Attributes: Record<string, string> }>> =>
    ((await motoCli("servicediscovery", "list-instances", "--service-id", registryId)).Instances as any[]).sort((a, b) => a.Id.localeCompare(b.Id));
  const scNetworks = async (): Promise<string[]> =>
    (await docker("network", "ls", "--format", "{{.Name}}", "--filter", "label=local-ecs-api.shared-network")).split("\n").filter((n) => n.startsWith("ecs-x-connect-local-"));

  beforeAll(async () => {
    moto = await startMoto();
    // moto as ELBv2 and Cloud Map: a load balancer with an ip target group behind a listener, a target
    // group without load balancer, an instance one, and a Cloud Map service in an HTTP namespace.
    const vpc = (await motoCli("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16")).Vpc.VpcId;
    const subnets: string[] = [];
    for (const [cidr, az] of [["10.0.1.0/24", "us-east-1a"], ["10.0.2.0/24", "us-east-1b"]]) {
      subnets.push((await motoCli("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr!, "--availability-zone", az!)).Subnet.SubnetId);
    }
    const lb = (await motoCli("elbv2", "create-load-balancer", "--name", "app", "--subnets", ...subnets)).LoadBalancers[0].LoadBalancerArn;
    const tg = async (name: string, type: string): Promise<string> =>
      (await motoCli("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "8080", "--vpc-id", vpc, "--target-type", type)).TargetGroups[0].TargetGroupArn;
    targetGroupArn = await tg("api", "instance");
    bareTargetGroupArn = await tg("bare", "instance");
    ipTargetGroupArn = await tg("ip", "ip");
    for (const arn of [targetGroupArn, ipTargetGroupArn]) {
      await motoCli("elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTP", "--port", arn === targetGroupArn ? "80" : "81", "--default-actions", `Type=forward,TargetGroupArn=${arn}`);
    }
    await motoCli("elbv2", "modify-target-group-attributes", "--target-group-arn", targetGroupArn, "--attributes", "Key=deregistration_delay.timeout_seconds,Value=5");
    await motoCli("servicediscovery", "create-http-namespace", "--name", "local");
    const ns = (await motoCli("servicediscovery", "list-namespaces")).Namespaces.find((n: any) => n.Name === "local");
    const svc = (await motoCli("servicediscovery", "create-service", "--name", "api", "--namespace-id", ns.Id)).Service;
    registryArn = svc.Arn;
    registryId = svc.Id;

    server = await startChildServer({
      dataDir,
      script: "test/reliability/support/serve-with-options.ts",
      env: {
        ELBV2_ENDPOINT_URL: moto.endpoint,
        SERVICE_DISCOVERY_ENDPOINT_URL: moto.endpoint,
        CONTAINER_INSTANCES: "*=unix:///var/run/docker.sock,*=unix:///var/run/docker.sock",
        AWS_ACCESS_KEY_ID: "testing",
        AWS_SECRET_ACCESS_KEY: "testing",
        SERVER_OPTIONS: JSON.stringify({ validateResponses: true }),
      },
    });
    ecs = server.ecs;
    await ecsCli("create-cluster", "--cluster-name", cluster);
    const td = (family: string, mode: string, name: string, port: number, command: string, portName?: string): string => {
      const file = join(files, `${family}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          family: `${cluster}-${family}`,
          networkMode: mode,
          containerDefinitions: [
            { name, image: IMAGE, memory: 32, stopTimeout: 2, portMappings: [{ containerPort: port, ...(portName === undefined ? {} : { name: portName }) }], command: ["sh", "-c", command] },
          ],
        }),
      );
      return `file://${file}`;
    };
    await ecsCli("register-task-definition", "--cli-input-json", td("api", "bridge", "api", 8080, API, "http"));
    await ecsCli("register-task-definition", "--cli-input-json", td("web", "awsvpc", "web", WEB_PORT, WEB));
  });

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    for (const n of await scNetworks().catch(() => [])) await docker("network", "rm", n).catch(() => "");
    removeDataDir(dataDir);
    rmSync(files, { recursive: true, force: true });
    await moto?.stop();
  });

  it("CreateService checks target groups as ECS does", async () => {
    const create = (targetGroup: string, taskDefinition: string) =>
      ecs.send(
        new CreateServiceCommand({
          cluster,
          serviceName: "bad",
          taskDefinition,
          desiredCount: 0,
          networkConfiguration: taskDefinition.endsWith("web") ? { awsvpcConfiguration: { subnets: ["subnet-1"] } } : undefined,
          loadBalancers: taskDefinition.endsWith("web")
            ? [{ targetGroupArn: targetGroup, containerName: "web", containerPort: WEB_PORT }]
            : [{ targetGroupArn: targetGroup, containerName: "api", containerPort: 8080 }],
        }),
      );
    await expect(create(bareTargetGroupArn, `${cluster}-api`)).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: `The target group with targetGroupArn ${bareTargetGroupArn} does not have an associated load balancer.`,
    });
    await expect(create(targetGroupArn, `${cluster}-web`)).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: `The provided target group ${targetGroupArn} has target type instance, which is incompatible with the awsvpc network mode specified in the task definition.`,
    });
    await expect(create(ipTargetGroupArn, `${cluster}-api`)).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: `The provided target group ${ipTargetGroupArn} has target type ip, which is incompatible with the bridge network mode specified in the task definition.`,
    });
    await expect(create(targetGroupArn.replace(/\/[0-9a-f]+$/, "/0000000000000000"), `${cluster}-api`)).rejects.toMatchObject({
      name: "InvalidParameterException",
      message: "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.",
    });
  });

  it("api and web come up (services-stable); web reaches api by its Service Connect name; targets and instances are registered", { timeout: 300_000 }, async () => {
    const api = await ecsCli(
      "create-service", "--cluster", cluster, "--service-name", "api", "--task-definition", `${cluster}-api`, "--desired-count", "2",
      "--placement-constraints", "type=distinctInstance",
      "--load-balancers", `targetGroupArn=${targetGroupArn},containerName=api,containerPort=8080`,
      "--service-registries", `registryArn=${registryArn},containerName=api,containerPort=8080`,
      "--service-connect-configuration", JSON.stringify({ enabled: true, namespace: "local", services: [{ portName: "http", discoveryName: "api", clientAliases: [{ port: 8080, dnsName: "api" }] }] }),
    );
    expect(api.service).toMatchObject({ serviceName: "api", loadBalancers: [{ targetGroupArn, containerName: "api", containerPort: 8080 }] });
    await ecsCli(
      "create-service", "--cluster", cluster, "--service-name", "web", "--task-definition", `${cluster}-web`, "--desired-count", "1",
      "--network-configuration", "awsvpcConfiguration={subnets=[subnet-1]}",
      "--service-connect-configuration", JSON.stringify({ enabled: true, namespace: "local" }),
    );
    await ecsCli("wait", "services-stable", "--cluster", cluster, "--services", "api", "web");

    // From the host, through web's published port: web calls http://api:8080 by name.
    const [web] = await tasksOf("web");
    const hostPort = hostPortOf(web!);
    const answer = await eventually("web to answer with api's page", async () => {
      const res = await fetch(`http://127.0.0.1:${hostPort}/cgi-bin/call`);
      const text = (await res.text()).trim();
      return text === "web -> hello from api" ? text : undefined;
    }, 60_000, 500);
    expect(answer).toBe("web -> hello from api");
    expect(await scNetworks()).toHaveLength(1);

    const apiTasks = await tasksOf("api");
    const expected = (await Promise.all(apiTasks.map(async (t) => ({ id: await ec2IdOf(t), port: hostPortOf(t), state: "healthy" })))).sort((a, b) => a.id.localeCompare(b.id));
    expect(new Set(expected.map((t) => t.id)).size).toBe(2);
    const registered = await eventually("two targets in the target group", async () => {
      const t = await targets();
      return t.length === 2 ? t : undefined;
    });
    // Bridge tasks behind an instance target group: the container instance's EC2 id and the host port.
    expect(registered).toEqual(expected);
    const found = await eventually("two instances in Cloud Map", async () => {
      const i = await instances();
      return i.length === 2 ? i : undefined;
    });
    const byId = new Map(apiTasks.map((t) => [t.taskArn!.split("/").at(-1)!, t]));
    for (const i of found) {
      const t = byId.get(i.Id)!;
      expect(t).toBeDefined();
      expect(i.Attributes).toMatchObject({
        AWS_INSTANCE_IPV4: "127.0.0.1",
        AWS_INSTANCE_PORT: String(hostPortOf(t)),
        EC2_INSTANCE_ID: await ec2IdOf(t),
        ECS_SERVICE_NAME: "api",
        ECS_CLUSTER_NAME: cluster,
        ECS_TASK_DEFINITION_FAMILY: `${cluster}-api`,
        REGION: "us-east-1",
        AVAILABILITY_ZONE: t.availabilityZone,
      });
    }
    const events = (await ecsCli("describe-services", "--cluster", cluster, "--services", "api")).services[0].events.map((e: any) => e.message);
    expect(events).toContain(`(service api) registered 1 targets in (target-group ${targetGroupArn})`);
  });

  it("scale-in deregisters the stopped task's target and instance (DEACTIVATING while it drains); deleting the services removes all and the namespace network", { timeout: 300_000 }, async () => {
    const before = await tasksOf("api");
    await ecsCli("update-service", "--cluster", cluster, "--service", "api", "--desired-count", "1");
    await ecsCli("wait", "services-stable", "--cluster", cluster, "--services", "api");
    const [kept] = await tasksOf("api");
    const stopped = before.find((t) => t.taskArn !== kept!.taskArn)!;
    const left = await eventually("one target left", async () => {
      const t = await targets();
      return t.length === 1 ? t : undefined;
    });
    expect(left).toEqual([{ id: await ec2IdOf(kept!), port: hostPortOf(kept!), state: "healthy" }]);
    expect((await eventually("one instance left", async () => {
      const i = await instances();
      return i.length === 1 ? i : undefined;
    })).map((i) => i.Id)).toEqual([kept!.taskArn!.split("/").at(-1)]);
    const events = (await ecsCli("describe-services", "--cluster", cluster, "--services", "api")).services[0].events.map((e: any) => e.message);
    expect(events).toContain("(service api) has begun draining connections on 1 tasks.");
    expect(events).toContain(`(service api) deregistered 1 targets in (target-group ${targetGroupArn})`);
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [stopped.taskArn!] }));
    expect(tasks![0]).toMatchObject({ lastStatus: "STOPPED", stopCode: "ServiceSchedulerInitiated" });

    for (const name of ["api", "web"]) await ecsCli("delete-service", "--cluster", cluster, "--service", name, "--force");
    await ecsCli("wait", "services-inactive", "--cluster", cluster, "--services", "api", "web");
    await eventually("no targets left", async () => ((await targets()).length === 0 ? true : undefined));
    await eventually("no instances left", async () => ((await instances()).length === 0 ? true : undefined));
    await eventually("the namespace network removed", async () => ((await scNetworks()).length === 0 ? true : undefined));
  });
});
