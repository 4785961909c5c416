import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CreateClusterCommand } from "@aws-sdk/client-ecs";
import { afterAll, describe, expect, it } from "vitest";
import { adaptCliExample, README_ENDPOINT } from "../image/readme-example.ts";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { IMAGE, removeCluster, uniqueCluster } from "../reliability/support/docker.ts";

const run = promisify(execFile);
const START = "<!-- example:service:start -->";
const END = "<!-- example:service:end -->";

/** The ```bash block between the service example's markers. */
function serviceExample(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} … ${END} section`);
  const m = /```bash\r?\n([\s\S]*?)\r?\n```/.exec(readme.slice(start, end));
  if (m?.[1] === undefined) throw new Error("the README's service example has no ```bash block");
  return m[1];
}

/**
 * A stand-in `aws`: the AWS CLI v2, with the test's own cluster added to the commands that take one (the
 * README uses the default cluster; on a shared Docker daemon the test must not touch anyone else's).
 */
function clusterShim(cluster: string): string {
  return [
    "#!/bin/sh",
    'case "$2" in',
    `  create-service|update-service|delete-service|describe-services|list-tasks|describe-tasks) exec /usr/bin/aws "$@" --cluster ${cluster} ;;`,
    `  wait) exec /usr/bin/aws "$@" --cluster ${cluster} ;;`,
    "esac",
    'exec /usr/bin/aws "$@"',
    "",
  ].join("\n");
}

describe("README: Run a service (executed as written, against a real server and Docker)", () => {
  const cluster = uniqueCluster("readme-svc");
  const dataDir = tempDataDir();
  const bin = mkdtempSync(join(tmpdir(), "lecs-readme-bin-"));
  let server: ChildServer | undefined;

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
    rmSync(bin, { recursive: true, force: true });
  });

  it("creates the service, serves v1, rolls out v2, shows ECS's events and deletes it", { timeout: 300_000 }, async () => {
    const script = serviceExample(readFileSync(new URL("../../README.md", import.meta.url), "utf8"));
    expect(script).toContain(README_ENDPOINT);
    server = await startChildServer({ dataDir });
    await server.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    writeFileSync(join(bin, "aws"), clusterShim(cluster));
    chmodSync(join(bin, "aws"), 0o755);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", adaptCliExample(script, server.url, IMAGE)], {
      env: { ...env, PATH: `${bin}:${process.env["PATH"] ?? ""}`, AWS_PAGER: "", AWS_CONFIG_FILE: "/dev/null" },
      timeout: 280_000,
    });
    const lines = stdout.split("\n").map((l) => l.trim());
    const v1 = lines.indexOf("hello from v1");
    const v2 = lines.indexOf("hello from v2");
    expect(v1).toBeGreaterThanOrEqual(0);
    expect(v2).toBeGreaterThan(v1);
    expect(stdout).toContain('"ACTIVE"');
    expect(stdout).toContain('"PRIMARY"');
    expect(stdout).toContain('"DRAINING"');
    // The events the README quotes, newest first.
    const events = JSON.parse(stdout.slice(stdout.indexOf("[", stdout.indexOf("hello from v2")), stdout.lastIndexOf("]") + 1)) as string[];
    expect(events[0]).toBe("(service web) has reached a steady state.");
    expect(events[1]).toMatch(/^\(service web\) \(deployment ecs-svc\/\d{19}\) deployment completed\.$/);
    expect(events.slice(2).some((e) => /^\(service web\) has stopped [12] running tasks: /.test(e))).toBe(true);
  });
});
