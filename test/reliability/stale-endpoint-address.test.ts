// A host-mode server killed with SIGKILL cannot remove 169.254.170.2 from the endpoint network's bridge.
// The next server must see that nobody serves the address, take it over (and say so), serve the agent
// endpoints on it, and remove it when it stops. Real child servers (as root, host mode), real `ip`/`ss`.
//
// 169.254.170.2 belongs to the whole host, and other servers (other test files, other checkouts) hold and
// serve it all the time: these servers serve another free address of the endpoint network instead
// (outside Docker's dynamic range), with the very same code path.
import { afterAll, describe, expect, it } from "vitest";
import { hasLocalAddress, someoneListensOn } from "../../src/runtime/backend/docker/endpoint-network.ts";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { eventually } from "./support/docker.ts";

const ENDPOINT_IP = "169.254.170.66";

const event = (server: ChildServer, name: string): Record<string, unknown> | undefined => {
  const line = server.log().split("\n").find((l) => l.includes(`"event":"${name}"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
};

describe("169.254.170.2 left behind by a killed server", () => {
  const dataDirs: string[] = [];
  const servers: ChildServer[] = [];

  afterAll(async () => {
    for (const s of servers) await s.kill("SIGKILL");
    for (const d of dataDirs) removeDataDir(d);
  });

  const start = async (): Promise<ChildServer> => {
    const dataDir = tempDataDir();
    dataDirs.push(dataDir);
    const server = await startChildServer({
      dataDir,
      script: "test/reliability/support/serve-with-options.ts",
      env: { DATA_DIR: ":memory:", SERVER_OPTIONS: JSON.stringify({ agentEndpoint: { address: ENDPOINT_IP } }) },
    });
    servers.push(server);
    await eventually("the agent endpoint", () => event(server, "agent.endpoint"), 30_000, 100);
    return server;
  };

  it("is taken over by the next server, which says so, serves it, and removes it when it stops", { timeout: 180_000 }, async () => {
    for (let attempt = 1; ; attempt++) {
      await eventually(`nobody to serve ${ENDPOINT_IP}`, async () => ((await someoneListensOn(ENDPOINT_IP)) ? undefined : true), 30_000, 250);
      const killed = await start();
      if (event(killed, "agent.endpoint")?.["mode"] !== "host-link-local") {
        // Someone took port 80 on the address meanwhile.
        await killed.stop();
        if (attempt < 5) continue;
        throw new Error(`could not set the scenario up: ${ENDPOINT_IP}:80 kept being served by another process`);
      }
      await killed.kill("SIGKILL");
      expect(await hasLocalAddress(ENDPOINT_IP)).toBe(true);
      if (await someoneListensOn(ENDPOINT_IP)) continue;

      const next = await start();
      const takeover = event(next, "agent.endpoint.stale_address_taken_over");
      if (takeover === undefined && event(next, "agent.endpoint")?.["mode"] !== "host-link-local") {
        // Another process started serving the address before this server looked: not stale any more.
        await next.stop();
        if (attempt < 5) continue;
        throw new Error(`could not set the scenario up: ${ENDPOINT_IP} kept being served by another process`);
      }
      expect(takeover).toMatchObject({ level: "warn", address: ENDPOINT_IP });
      expect(String(takeover?.["message"])).toContain("nothing served it");
      expect(event(next, "agent.endpoint")).toMatchObject({ mode: "host-link-local", baseUrl: `http://${ENDPOINT_IP}` });
      // It is this server that answers there now (an unknown endpoint id: the agent's own 404).
      const res = await fetch(`http://${ENDPOINT_IP}/v4/no-such-endpoint/task`, { signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(404);
      expect(String(await res.json())).toContain("V4 task metadata handler");

      await next.stop();
      servers.splice(0);
      // Taken over, it is removed like an address this server added (unless another server serves it by now).
      if (!(await someoneListensOn(ENDPOINT_IP))) expect(await hasLocalAddress(ENDPOINT_IP)).toBe(false);
      return;
    }
  });
});
