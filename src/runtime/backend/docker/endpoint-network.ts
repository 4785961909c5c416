// Makes the agent server reachable from task containers at 169.254.170.2, and says how containers must
// address it (the env vars the agent injects).
//
// Modes, tried in this order:
// - "in-container": we run inside a container that this Docker daemon knows (found by hostname or cgroup
//   mount id). Our container joins `ecs-local-network` with the fixed IPv4 169.254.170.2 (what ecs-cli does
//   for amazon-ecs-local-container-endpoints) and the server listens on :80.
// - "host-link-local": `npm start` on the host. We add 169.254.170.2/32 to the network's bridge interface
//   (needs root / CAP_NET_ADMIN) and bind 169.254.170.2:80. The host owns the address, so a container on the
//   bridge reaches it directly (ARP on the bridge, INPUT chain; no iptables rule needed), and containers on
//   other bridge networks or the host network reach it too, through their default route to the host.
// - "host-link-local-port": as above, but port 80 is taken or not bindable: bind 169.254.170.2:<free port>
//   and use AWS_CONTAINER_CREDENTIALS_FULL_URI (+ token); SDKs accept 169.254.170.2 on any port.
// - "host-gateway": the address cannot be added (not root): bind the network gateway 169.254.170.1 on a free
//   port, FULL_URI + token. Metadata works; note that AWS SDKs refuse FULL_URI hosts other than loopback,
//   169.254.170.2 and the EKS addresses, so SDK credential loading does not work in this mode.
// Dynamic addresses on the network come from 169.254.170.128/25, so Docker never hands 169.254.170.2 to a
// task container.
import { execFile } from "node:child_process";
import { networkInterfaces } from "node:os";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import type Docker from "dockerode";
import type { AddressInfo } from "node:net";
import type { Logger } from "../../logger.ts";
import { containerEnv, type AgentEndpoint, type AgentEndpointRequest, type EndpointMode, type EndpointNetwork } from "../../agent/agent-endpoint.ts";
import { ownContainerCandidates } from "./own-container.ts";
import { probeAddress, recreateNetwork } from "./stale-endpoint-address.ts";

export const ENDPOINT_NETWORK_NAME = "ecs-local-network";
export const ENDPOINT_SUBNET = "169.254.170.0/24";
export const ENDPOINT_GATEWAY = "169.254.170.1";
export const ENDPOINT_IP = "169.254.170.2";
export const ENDPOINT_DYNAMIC_RANGE = "169.254.170.128/25";

export interface StartAgentEndpointOptions extends AgentEndpointRequest {
  docker: Docker;
}

const run = promisify(execFile);

export async function ensureEndpointNetwork(docker: Docker, name: string = ENDPOINT_NETWORK_NAME): Promise<EndpointNetwork> {
  const describe = (info: Docker.NetworkInspectInfo, created: boolean): EndpointNetwork => ({
    id: info.Id,
    name: info.Name,
    created,
    bridgeName: info.Options?.["com.docker.network.bridge.name"] ?? `br-${info.Id.slice(0, 12)}`,
    gateway: info.IPAM?.Config?.[0]?.Gateway ?? ENDPOINT_GATEWAY,
  });
  try {
    return describe(await docker.getNetwork(name).inspect(), false);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: "bridge",
      CheckDuplicate: true,
      IPAM: { Driver: "default", Config: [{ Subnet: ENDPOINT_SUBNET, Gateway: ENDPOINT_GATEWAY, IPRange: ENDPOINT_DYNAMIC_RANGE }] },
      Labels: { "local-ecs-api.network": "endpoint" },
    });
    return describe(await docker.getNetwork(name).inspect(), true);
  } catch (err) {
    // Another process created it between our inspect and create: reuse it.
    if (isConflict(err)) return describe(await docker.getNetwork(name).inspect(), false);
    throw err;
  }
}

/** Our own container id when this daemon runs us in a container, else undefined. */
export async function findOwnContainer(docker: Docker): Promise<string | undefined> {
  for (const c of ownContainerCandidates()) {
    try {
      const info = await docker.getContainer(c).inspect();
      return info.Id;
    } catch {
      // a sandbox can have /.dockerenv without being a container of this daemon
    }
  }
  return undefined;
}

export async function startAgentEndpoint(options: StartAgentEndpointOptions): Promise<AgentEndpoint> {
  const { docker, server, logger } = options;
  let network = await ensureEndpointNetwork(docker, options.networkName);
  const port = options.port ?? 80;
  let addedAddress: { ip: string; dev: string } | undefined;

  const finish = (mode: EndpointMode, listen: AddressInfo, host: string, token: string | undefined): AgentEndpoint => {
    const baseUrl = listen.port === 80 ? `http://${host}` : `http://${host}:${listen.port}`;
    server.setAuthorizationToken(token);
    logger.info("agent.endpoint.ready", { mode, baseUrl, network: network.name });
    return {
      mode,
      baseUrl,
      listen,
      authorizationToken: token,
      network,
      env: (input) => containerEnv(input, { baseUrl, token, taskAwsEndpointUrl: options.taskAwsEndpointUrl }),
      teardown: async () => {
        if (addedAddress !== undefined && !(await someoneListensOn(addedAddress.ip))) {
          await run("ip", ["addr", "del", `${addedAddress.ip}/32`, "dev", addedAddress.dev]).catch(() => {});
        }
        addedAddress = undefined;
      },
    };
  };
  const newToken = (): string => randomBytes(24).toString("base64url");

  const ownId = options.mode === undefined || options.mode === "in-container" ? await findOwnContainer(docker) : undefined;
  if (ownId !== undefined) {
    network = await clearStaleHostAddress(docker, network, ownId, logger);
    await connectSelf(docker, network, ownId);
    try {
      return finish("in-container", await server.listen(port, "0.0.0.0"), ENDPOINT_IP, undefined);
    } catch (err) {
      logger.warn("agent.endpoint.port_unavailable", { port, error: err });
      return finish("host-link-local-port", await server.listen(0, "0.0.0.0"), ENDPOINT_IP, newToken());
    }
  }
  if (options.mode === "in-container") throw new Error("in-container mode requested but this process is not a container of the Docker daemon");

  if (options.mode !== "host-gateway") {
    const ip = options.address ?? ENDPOINT_IP;
    const holder = await addressHolder(docker, network.name, ip);
    if (holder !== undefined) {
      logger.warn("agent.endpoint.address_taken", { message: `${ip} is used by container ${holder} on ${network.name}` });
    } else {
      // An address already on any host interface is enough: the host answers ARP for it on the bridge too.
      const presentOn = await localAddressDevice(ip);
      // Present but served by nobody: left by a server that could not remove it (killed with SIGKILL).
      // Take it over, and remove it on teardown as if we had added it.
      const stale = presentOn !== undefined && !(await someoneListensOn(ip));
      if (stale) {
        logger.warn("agent.endpoint.stale_address_taken_over", {
          address: ip,
          dev: presentOn,
          message: `${ip} was on ${presentOn} but nothing served it (a local-ecs-api that was killed?): serving it now`,
        });
      }
      const ready = presentOn !== undefined || (await addAddress(network.bridgeName, ip, logger));
      if (ready) {
        if ((presentOn === undefined || stale) && options.removeAddressOnTeardown !== false) {
          addedAddress = { ip, dev: presentOn ?? network.bridgeName };
        }
        try {
          return finish("host-link-local", await server.listen(port, ip), ip, undefined);
        } catch (err) {
          logger.warn("agent.endpoint.port_unavailable", { host: ip, port, error: err });
          return finish("host-link-local-port", await server.listen(0, ip), ip, newToken());
        }
      }
    }
  }
  logger.warn("agent.endpoint.gateway_mode", {
    message: "serving the agent endpoints on the network gateway; AWS SDKs will not load task credentials from this address",
  });
  return finish("host-gateway", await server.listen(0, network.gateway), network.gateway, newToken());
}


/**
 * Before our container takes 169.254.170.2 on the network: if the host still holds the address there and
 * serves nothing on it (a host-mode server killed with SIGKILL), the network is recreated so its bridge
 * comes back without it (see stale-endpoint-address.ts). Returns the network as it now is.
 */
async function clearStaleHostAddress(docker: Docker, network: EndpointNetwork, containerId: string, logger: Logger): Promise<EndpointNetwork> {
  const info = await docker.getContainer(containerId).inspect();
  const current = info.NetworkSettings.Networks[network.name];
  // Already ours (a restart of this container): anything answering is us.
  if (current?.IPAddress === ENDPOINT_IP || current?.IPAMConfig?.IPv4Address === ENDPOINT_IP) return network;
  const probe = await probeAddress(ENDPOINT_IP, 80);
  if (probe === "served") {
    logger.warn("agent.endpoint.address_served_by_host", {
      message: `the host already serves ${ENDPOINT_IP}:80 (a local-ecs-api started with npm start?); task containers may reach it instead of this server`,
    });
  }
  if (probe !== "refused") return network;
  if (!(await recreateNetwork(docker, network.name))) {
    logger.warn("agent.endpoint.stale_address", {
      message: `the host holds ${ENDPOINT_IP} on ${network.bridgeName} but serves nothing there, and ${network.name} cannot be recreated while containers are attached; remove it on the host: ip addr del ${ENDPOINT_IP}/32 dev ${network.bridgeName}`,
    });
    return network;
  }
  const fresh = await ensureEndpointNetwork(docker, network.name);
  const after = await probeAddress(ENDPOINT_IP, 80);
  logger.warn(after === "refused" ? "agent.endpoint.stale_address" : "agent.endpoint.stale_address_taken_over", {
    address: ENDPOINT_IP,
    message:
      after === "refused"
        ? `the host holds ${ENDPOINT_IP} on another interface than ${network.name}'s bridge and serves nothing there; remove it on the host (ip addr del ${ENDPOINT_IP}/32 dev <interface>)`
        : `${ENDPOINT_IP} was left on ${network.bridgeName} by a server that is gone (killed?): recreated ${network.name} without it, serving it now`,
  });
  return fresh;
}

async function connectSelf(docker: Docker, network: EndpointNetwork, containerId: string): Promise<void> {
  const info = await docker.getContainer(containerId).inspect();
  const current = info.NetworkSettings.Networks[network.name];
  if (current?.IPAddress === ENDPOINT_IP || current?.IPAMConfig?.IPv4Address === ENDPOINT_IP) return;
  const net = docker.getNetwork(network.id);
  if (current !== undefined) await net.disconnect({ Container: containerId, Force: true });
  await net.connect({ Container: containerId, EndpointConfig: { IPAMConfig: { IPv4Address: ENDPOINT_IP } } });
}

/** A container on the network already holding the address (e.g. ecs-cli's endpoints container). */
async function addressHolder(docker: Docker, networkName: string, ip: string): Promise<string | undefined> {
  const info = await docker.getNetwork(networkName).inspect();
  const containers = (info.Containers ?? {}) as Record<string, { Name?: string; IPv4Address?: string }>;
  for (const [id, c] of Object.entries(containers)) {
    if ((c.IPv4Address ?? "").split("/")[0] === ip) return c.Name ?? id;
  }
  return undefined;
}

/**
 * Whether any socket still listens on ip (another local-ecs-api on this host, e.g. in port-fallback mode).
 * Called after our own server closed. When `ss` cannot tell, assume yes and keep the address.
 */
export async function someoneListensOn(ip: string): Promise<boolean> {
  try {
    const { stdout } = await run("ss", ["-Hltn", "src", ip]);
    return stdout.trim() !== "";
  } catch {
    return true;
  }
}

/** Asks `ip` because os.networkInterfaces() leaves out interfaces that are down, as an idle bridge is. */
export async function hasLocalAddress(ip: string): Promise<boolean> {
  return (await localAddressDevice(ip)) !== undefined;
}

/** The host interface holding `ip`, or undefined when none does. */
export async function localAddressDevice(ip: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("ip", ["-o", "-4", "addr", "show"]);
    // "5: br-0123456789ab    inet 169.254.170.2/32 scope global br-0123456789ab"
    const line = stdout.split("\n").find((l) => l.includes(` inet ${ip}/`));
    return line === undefined ? undefined : (/^\d+:\s+([^\s@]+)/.exec(line)?.[1] ?? "?");
  } catch {
    for (const [name, list] of Object.entries(networkInterfaces())) if ((list ?? []).some((a) => a.address === ip)) return name;
    return undefined;
  }
}

async function addAddress(dev: string, ip: string, logger: Logger): Promise<boolean> {
  try {
    await run("ip", ["addr", "add", `${ip}/32`, "dev", dev]);
    logger.info("agent.endpoint.address_added", { address: ip, dev });
    return true;
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? err);
    if (stderr.includes("File exists")) return true;
    logger.warn("agent.endpoint.address_failed", { address: ip, dev, error: stderr.trim() });
    return false;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

function isConflict(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 409;
}
