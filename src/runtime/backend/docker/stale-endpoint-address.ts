// In-container mode, our container takes 169.254.170.2 on the endpoint network. A host-mode server killed
// with SIGKILL leaves that address on the network's bridge (host side), where the host answers ARP for
// it too: task containers would then reach the host, where nothing serves, instead of us. From inside a
// container the host's interfaces are out of reach, but two things are not: connecting to the address
// before we hold it (the host answers with a reset when it holds the address and nothing listens), and
// recreating the Docker network, which makes its bridge interface, and the addresses on it, anew.
import { createConnection } from "node:net";
import type Docker from "dockerode";

/** What answers at ip:port from here: a listener, a host holding the address with nothing on the port, or nobody. */
export function probeAddress(ip: string, port: number, timeoutMs = 1000): Promise<"served" | "refused" | "absent"> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: ip, port, timeout: timeoutMs });
    const done = (result: "served" | "refused" | "absent"): void => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done("served"));
    socket.once("timeout", () => done("absent"));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED" ? "refused" : "absent"));
  });
}

/**
 * Removes and creates again a Docker network with the same driver, IPAM, options and labels, so its
 * bridge interface is new. Only when no container is attached (false otherwise, or when it is gone).
 */
export async function recreateNetwork(docker: Docker, name: string): Promise<boolean> {
  let info: Docker.NetworkInspectInfo;
  try {
    info = await docker.getNetwork(name).inspect();
  } catch {
    return false;
  }
  if (Object.keys(info.Containers ?? {}).length > 0) return false;
  const options: Docker.NetworkCreateOptions = {
    Name: info.Name,
    Driver: info.Driver,
    CheckDuplicate: true,
    Internal: info.Internal,
    Attachable: info.Attachable,
    EnableIPv6: info.EnableIPv6,
    Options: info.Options ?? {},
    Labels: info.Labels ?? {},
  };
  if (info.IPAM !== undefined) options.IPAM = info.IPAM as Docker.IPAM;
  try {
    await docker.getNetwork(info.Id).remove();
  } catch {
    // a container joined meanwhile, or another process recreated it first
    return false;
  }
  try {
    await docker.createNetwork(options);
  } catch (err) {
    // Another process created it again between our remove and create: theirs serves as well.
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
  return true;
}
