// The files users build and start the image with, checked without building anything.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { REPO_ROOT, run } from "./image-harness.ts";
import { adaptCliExample, awsShim, extractCliExample, statedOutput } from "./readme-example.ts";

const read = (file: string): Promise<string> => readFile(join(REPO_ROOT, file), "utf8");

/** Every variable of the original project's README, plus the ones this implementation added. */
const PASSED_THROUGH = [
  "ECS_ENDPOINT_URL",
  "ECS_ENDPOINT_AWS_REGION",
  "ECS_EXTERNAL_NETWORKS",
  "COMPOSE_DEST",
  "IAM_ENDPOINT",
  "STS_ENDPOINT",
  "SECRET_MANAGER_ENDPOINT_URL",
  "SSM_ENDPOINT_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_PROFILE",
  "AWS_DEFAULT_REGION",
  "ECS_AWS_CREDS_VOLUME_NAME",
  "ECS_ENDPOINT_AWS_PROFILE",
  "AWS_CREDS_HOST_PATH",
  "ECS_ENDPOINT_AWS_ACCESS_KEY_ID",
  "ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY",
  "LOGS_ENDPOINT_URL",
  "TASK_AWS_ENDPOINT_URL",
  "LOG_LEVEL",
];

describe("Dockerfile", () => {
  test("the version label defaults to the package version", async () => {
    const pkg = JSON.parse(await read("package.json")) as { version: string };
    const arg = /^ARG VERSION=(\S+)$/m.exec(await read("Dockerfile"));
    expect(arg?.[1], "Dockerfile needs `ARG VERSION=<package.json version>`").toBe(pkg.version);
  });

  test("builds on node:24-bookworm-slim with production dependencies only", async () => {
    const dockerfile = await read("Dockerfile");
    expect(dockerfile.match(/^FROM .*$/gm)).toEqual(["FROM node:24-bookworm-slim AS build", "FROM node:24-bookworm-slim"]);
    expect(dockerfile).toMatch(/npm ci --omit=dev --omit=optional/);
  });

  test("runs the JavaScript that `npm run build` emits, not the TypeScript sources", async () => {
    const dockerfile = await read("Dockerfile");
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", ("--[a-z-]+=\S+", )*"dist\/cli\.cjs"\]$/m);
    // The final stage ships the build, not the sources.
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(final).not.toMatch(/^COPY (\S+ )?(src|generated)\b/m);
    const pkg = JSON.parse(await read("package.json")) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin["local-ecs-api"]).toBe("dist/cli.cjs");
    expect(pkg.scripts["start"]).toMatch(/^node (--[a-z-]+=\S+ )*dist\/cli\.cjs serve$/);
  });

  test(".dockerignore keeps node_modules and local data out of the build context", async () => {
    const lines = (await read(".dockerignore")).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    expect(lines.filter((l) => l.startsWith("!")).sort()).toEqual([
      "!generated/",
      "!package-lock.json",
      "!package.json",
      "!scripts/",
      "!src/",
      "!tsconfig.json",
    ]);
  });
});

describe("docker-compose.yml", () => {
  test("passes every configuration variable through and keeps moto behind a profile", async () => {
    const compose = parse(await read("docker-compose.yml")) as any;
    const api = compose.services["local-ecs-api"];
    expect(api.image).toBe("local-ecs-api:latest");
    expect(api.build).toBe(".");
    expect(api.volumes).toContain("/var/run/docker.sock:/var/run/docker.sock");
    const names = (api.environment as string[]).map((e) => e.split("=")[0]);
    expect(names.sort()).toEqual([...PASSED_THROUGH].sort());
    expect(compose.services.moto.profiles).toEqual(["moto"]);
    expect(compose.services.moto.image).toMatch(/^motoserver\/moto/);
  });

  test("is valid for docker-compose v1", async () => {
    const r = await run("docker-compose", ["config", "-q"], { cwd: REPO_ROOT });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe("README CLI example extraction", () => {
  const readme = [
    "intro",
    "<!-- example:cli:start -->",
    "Run a task:",
    "```bash",
    "aws ecs run-task --task-definition hello --endpoint-url http://localhost:8000",
    'echo \'"image": "busybox:latest"\' "my/busybox:latest"',
    "```",
    "<!-- example:cli:end -->",
  ].join("\n");

  test("takes the bash block between the markers and swaps endpoint and image", () => {
    const script = extractCliExample(readme);
    expect(script).toBe(
      "aws ecs run-task --task-definition hello --endpoint-url http://localhost:8000\n" +
        'echo \'"image": "busybox:latest"\' "my/busybox:latest"',
    );
    expect(adaptCliExample(script, "http://127.0.0.1:1234", "local-ecs-api-test/busybox:latest")).toBe(
      "aws ecs run-task --task-definition hello --endpoint-url http://127.0.0.1:1234\n" +
        'echo \'"image": "local-ecs-api-test/busybox:latest"\' "my/busybox:latest"',
    );
  });

  test("says what is missing", () => {
    expect(() => extractCliExample("no markers")).toThrow(/example:cli:start/);
    expect(() => extractCliExample("<!-- example:cli:start -->\ntext\n<!-- example:cli:end -->")).toThrow(/bash code block/);
  });
});

describe("README CLI example helpers", () => {
  test("reads the output the README says the example prints", () => {
    const readme = "<!-- example:cli:end -->\n\nThis prints `STOPPED  EssentialContainerExited  3`. More `code`.";
    expect(statedOutput(readme)).toBe("STOPPED EssentialContainerExited 3");
    expect(statedOutput("<!-- example:cli:end -->\nnothing stated")).toBeUndefined();
  });

  test("the aws stand-in always targets the server under test", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lea-img-shim-"));
    try {
      const shim = join(dir, "aws");
      await writeFile(shim, awsShim("/bin/echo", "http://127.0.0.1:9"));
      await chmod(shim, 0o755);
      expect((await run(shim, ["ecs", "list-tasks"])).stdout.trim()).toBe("--endpoint-url http://127.0.0.1:9 ecs list-tasks");
      expect((await run(shim, ["ecs", "list-tasks", "--endpoint-url", "http://127.0.0.1:9"])).stdout.trim()).toBe(
        "ecs list-tasks --endpoint-url http://127.0.0.1:9",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
