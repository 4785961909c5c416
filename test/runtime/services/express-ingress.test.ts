import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { ExpressIngress } from "../../../src/runtime/services/express-ingress.ts";
import { eventually } from "../../support/eventually.ts";

// The Express service's local load balancer against plain HTTP servers standing in for tasks.

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function task(name: string, healthStatus: () => number): Promise<{ port: number }> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/health") res.writeHead(healthStatus()).end();
    else res.writeHead(200).end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push({ close: () => new Promise((r) => server.close(r)) });
  return { port: (server.address() as AddressInfo).port };
}

async function ingress(clock: ManualClock, changes: string[]): Promise<{ ingress: ExpressIngress; url: string }> {
  const i = new ExpressIngress({ serviceArn: "svc", bindHost: "127.0.0.1", healthCheckPath: "/health", clock, logger: silentLogger, onHealthChange: () => changes.push("change") });
  open.push(i);
  return { ingress: i, url: `http://127.0.0.1:${await i.listen(0)}` };
}

describe("Express ingress", () => {
  it("answers 503 without a healthy task, then round robin over the tasks that pass the health check", async () => {
    const clock = new ManualClock();
    const changes: string[] = [];
    const { ingress: i, url } = await ingress(clock, changes);
    expect((await fetch(url)).status).toBe(503);
    let bHealth = 500;
    const a = await task("a", () => 200);
    const b = await task("b", () => bHealth);
    i.setTargets([
      { taskArn: "A", host: "127.0.0.1", port: a.port },
      { taskArn: "B", host: "127.0.0.1", port: b.port },
    ]);
    await eventually("A healthy", () => (i.health("A") === "HEALTHY" ? true : undefined));
    // One failure is not enough to be unhealthy, but B never takes traffic before it passes.
    expect(i.health("B")).toBeUndefined();
    expect(await Promise.all([1, 2, 3].map(async () => (await fetch(url)).text()))).toEqual(["a", "a", "a"]);
    clock.advance(5_000);
    await eventually("B unhealthy after a second failure", () => (i.health("B") === "UNHEALTHY" ? true : undefined));
    bHealth = 200;
    clock.advance(5_000);
    await eventually("B healthy once it passes", () => (i.health("B") === "HEALTHY" ? true : undefined));
    const answers = [];
    for (let n = 0; n < 4; n++) answers.push(await (await fetch(`${url}/x`)).text());
    expect(answers.sort()).toEqual(["a", "a", "b", "b"]);
    expect(changes.length).toBeGreaterThanOrEqual(3);
    // A task that stops leaves the rotation at once.
    i.setTargets([{ taskArn: "B", host: "127.0.0.1", port: b.port }]);
    expect(await (await fetch(url)).text()).toBe("b");
    i.setTargets([]);
    expect((await fetch(url)).status).toBe(503);
  });
});
