// The building blocks in-container mode uses against a 169.254.170.2 left on the endpoint network's bridge
// by a killed host-mode server: a probe that tells a held-but-unserved address from a served or absent
// one, and recreating a network so its bridge loses such an address. On a private network and address,
// so other servers on this host keep theirs.
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { probeAddress, recreateNetwork } from "../../../../src/runtime/backend/docker/stale-endpoint-address.ts";
import { localAddressDevice } from "../../../../src/runtime/backend/docker/endpoint-network.ts";

const run = promisify(execFile);
const docker = new Docker();
const NAME = `lecs-stale-${process.pid}`;
const SUBNET = `10.251.${process.pid % 250}.0/24`;
const HELD = SUBNET.replace(".0/24", ".2");

afterAll(async () => {
  await docker.getNetwork(NAME).remove().catch(() => {});
});

describe("probeAddress", () => {
  it("tells served, refused (held with nothing listening) and absent apart", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    expect(await probeAddress("127.0.0.1", port)).toBe("served");
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await probeAddress("127.0.0.1", port)).toBe("refused");
    // An address of a bridge subnet that no one holds (as 169.254.170.2 is on ecs-local-network's): the
    // host asks for it on the bridge and nobody answers.
    await docker.createNetwork({ Name: NAME, Driver: "bridge", Labels: { "local-ecs-api.test": "stale" }, IPAM: { Driver: "default", Config: [{ Subnet: SUBNET }] } });
    expect(await probeAddress(SUBNET.replace(".0/24", ".77"), 80, 300)).toBe("absent");
  });
});

describe("recreateNetwork", () => {
  it("gives the network a new bridge without the address a host process left on it, same configuration", async () => {
    const before = await docker.getNetwork(NAME).inspect();
    const bridge = `br-${before.Id.slice(0, 12)}`;
    await run("ip", ["addr", "add", `${HELD}/32`, "dev", bridge]);
    expect(await localAddressDevice(HELD)).toBe(bridge);
    expect(await probeAddress(HELD, 80)).toBe("refused");

    expect(await recreateNetwork(docker, NAME)).toBe(true);
    const after = await docker.getNetwork(NAME).inspect();
    expect(after.Id).not.toBe(before.Id);
    expect(after.IPAM?.Config?.[0]?.Subnet).toBe(SUBNET);
    expect(after.Labels).toEqual({ "local-ecs-api.test": "stale" });
    expect(await localAddressDevice(HELD)).toBeUndefined();
  });

  it("leaves a network with a container attached alone", async () => {
    const c = await docker.createContainer({ Image: "local-ecs-api-test/busybox:latest", Cmd: ["sleep", "30"], HostConfig: { NetworkMode: NAME } });
    try {
      await c.start();
      const id = (await docker.getNetwork(NAME).inspect()).Id;
      expect(await recreateNetwork(docker, NAME)).toBe(false);
      expect((await docker.getNetwork(NAME).inspect()).Id).toBe(id);
    } finally {
      await c.remove({ force: true });
    }
    expect(await recreateNetwork(docker, "lecs-no-such-network")).toBe(false);
  });
});
