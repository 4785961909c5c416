// One local-ecs-api container started from the test image, the way the README tells users to run it:
// only the Docker socket and a /data volume mounted, the API port published (on loopback only here).
import { BASE_IMAGE, DOCKER_SOCKET, REPO_ROOT, TEST_IMAGE, containerLogsSync, freePort, mustRun, run, tail } from "./image-harness.ts";

export interface ServerContainer {
  readonly name: string;
  readonly url: string;
  /** The server's log so far (for failure messages). */
  logs(): string;
  /** docker stop (SIGTERM, the server shuts down cleanly), then docker rm. */
  remove(): Promise<void>;
}

export interface StartServerOptions {
  name: string;
  volume: string;
  /** Label put on the server container so a cleanup can find it. */
  label: string;
  env?: Record<string, string>;
  healthTimeoutMs?: number;
  /** How long to wait for a host-mode server to release 169.254.170.2 (default 180 s). */
  endpointWaitMs?: number;
}

/** Builds the image from the repository's Dockerfile, exactly as a user would (legacy builder: no buildx here). */
export async function buildTestImage(): Promise<void> {
  const base = await run("docker", ["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE]);
  if (base.code !== 0) {
    throw new Error(
      `The base image ${BASE_IMAGE} is not on this Docker engine and no registry is reachable to pull it. ` +
        "Run `bash .ci/base-image.sh` first (CI does, before the tests): it builds an offline stand-in.",
    );
  }
  const r = await run("docker", ["build", "--force-rm", "-t", TEST_IMAGE, "."], {
    cwd: REPO_ROOT,
    env: { ...process.env, DOCKER_BUILDKIT: "0" },
    timeoutMs: 540_000,
  });
  if (r.code !== 0) {
    throw new Error(`docker build of ${TEST_IMAGE} failed (exit ${r.code})\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
}

/** The address task containers reach the agent endpoints at (ecs-local-network). */
export const ENDPOINT_IP = "169.254.170.2";

/**
 * Container mode gives the server container 169.254.170.2 on ecs-local-network. A local-ecs-api started on
 * the host (`npm start`, or a test in host mode) instead puts that address on the network's bridge, and
 * then two holders answer ARP for it: task containers may reach the wrong server. So wait until no host
 * interface holds it; a host-mode server that starts after ours sees our container and keeps off.
 */
export async function waitForEndpointAddressFree(timeoutMs: number): Promise<void> {
  // `ip`, not os.networkInterfaces(): libuv leaves out interfaces that are not running, and the endpoint
  // bridge has no carrier while no container is attached to it.
  const holder = async (): Promise<string | undefined> => {
    const r = await run("ip", ["-4", "-o", "addr", "show"]);
    const line = r.stdout.split("\n").find((l) => l.includes(` ${ENDPOINT_IP}/`));
    return line?.split(/\s+/)[1];
  };
  const listening = async (): Promise<boolean> => (await run("ss", ["-Hltn", "src", ENDPOINT_IP])).stdout.trim() !== "";
  const deadline = Date.now() + timeoutMs;
  for (let dev = await holder(); dev !== undefined; dev = await holder()) {
    // A host-mode server that was killed leaves the address behind with nobody serving on it: clear it.
    if (!(await listening())) await run("ip", ["addr", "del", `${ENDPOINT_IP}/32`, "dev", dev]);
    else await new Promise((r) => setTimeout(r, 500));
    if (Date.now() > deadline) {
      throw new Error(
        `${ENDPOINT_IP} is still served on a host interface after ${timeoutMs} ms: a local-ecs-api runs on this host in host mode ` +
          "(see `ip -4 addr`, `ss -ltnp | grep 169.254.170.2`). Container mode needs that address for the server container; stop the host one.",
      );
    }
  }
}

export async function startServerContainer(options: StartServerOptions): Promise<ServerContainer> {
  await waitForEndpointAddressFree(options.endpointWaitMs ?? 180_000);
  const port = await freePort();
  const env = {
    // No AWS anywhere: keep the SDK's default chain from probing EC2 instance metadata (a non-loopback address).
    AWS_EC2_METADATA_DISABLED: "true",
    LOG_LEVEL: "debug",
    ...options.env,
  };
  await mustRun("docker", [
    "run",
    "-d",
    "--name",
    options.name,
    "--label",
    options.label,
    "-v",
    `${DOCKER_SOCKET}:${DOCKER_SOCKET}`,
    "-v",
    `${options.volume}:/data`,
    "-p",
    `127.0.0.1:${port}:8000`,
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    TEST_IMAGE,
  ]);
  const url = `http://127.0.0.1:${port}`;
  const container: ServerContainer = {
    name: options.name,
    url,
    logs: () => containerLogsSync(options.name),
    async remove() {
      await run("docker", ["stop", "-t", "10", options.name], { timeoutMs: 30_000 });
      await run("docker", ["rm", "-f", options.name], { timeoutMs: 30_000 });
    },
  };
  await waitForHealth(container, options.healthTimeoutMs ?? 60_000);
  return container;
}

/** GET /health until it answers 200; gives up early, with the log, if the container exits. */
async function waitForHealth(container: ServerContainer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() <= deadline) {
    try {
      const res = await fetch(`${container.url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${await res.text()}`;
    } catch (err) {
      last = String(err);
    }
    const state = await run("docker", ["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", container.name]);
    if (state.code === 0 && state.stdout.startsWith("exited")) {
      throw new Error(`${container.name} exited (${state.stdout.trim()}) before answering /health\n${tail(container.logs())}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${container.name} did not answer ${container.url}/health within ${timeoutMs} ms (${last})\n${tail(container.logs())}`);
}
