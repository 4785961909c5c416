import { createHash } from "node:crypto";
import type { ServiceConnectConfiguration, Task, TaskDefinition } from "../../../generated/shapes.ts";
import { regionOf } from "../arns.ts";
import type { TaskEngineHooks } from "../engine/engine-types.ts";
import type { Logger } from "../logger.ts";
import type { ServiceStore } from "../store/service-store.ts";

// Service Connect, locally: the tasks of every service in one namespace join one shared network (the
// backend makes it and removes it when its last task stops), and the container that owns a Service
// Connect `portName` answers there to the service's names — `discoveryName` (default: the port name),
// `<discoveryName>.<namespace>` and every client alias's `dnsName` — so `http://api:8080` reaches a task of
// the `api` service. The names are Docker network aliases: several tasks of one service all answer to them
// (Docker's DNS returns every address). There is no proxy: a client alias's `port` must be the container
// port (ECS's Envoy would map it; a different one is logged once).

/** What one task of a Service Connect service joins: the namespace's network and, per container, its names. */
export interface ServiceConnectJoin {
  network: string;
  /** ECS container name → the names it answers to on that network. */
  aliases: Record<string, string[]>;
  /** Client aliases whose port differs from the container port they lead to (not mapped locally). */
  portMismatches: string[];
}

/**
 * The network of a namespace: one per namespace and emulator (the owner is the data directory's id, so two
 * emulators on one Docker engine never share one), readable in `docker network ls`. The name sorts after
 * the task networks (`ecs-task-…`): Docker publishes a container's ports on, and routes its default
 * traffic through, the network whose name sorts first, and that must stay the task's own.
 */
export function namespaceNetworkName(owner: string, region: string, namespace: string): string {
  const slug = (namespace.split("/").at(-1) ?? namespace)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, "-")
    .slice(0, 40);
  const hash = createHash("sha256").update(`${owner}/${region}/${namespace}`).digest("hex").slice(0, 8);
  return `ecs-x-connect-${slug}-${hash}`;
}

/** Pure: what a task of a service with this Service Connect configuration joins; undefined when nothing. */
export function serviceConnectJoin(
  config: ServiceConnectConfiguration | undefined,
  td: TaskDefinition,
  network: (namespace: string) => string,
  namespaceName: string | undefined,
): ServiceConnectJoin | undefined {
  if (config?.enabled !== true || config.namespace === undefined || config.namespace === "") return undefined;
  const aliases: Record<string, string[]> = {};
  const portMismatches: string[] = [];
  for (const svc of config.services ?? []) {
    const owner = (td.containerDefinitions ?? []).find((c) => (c.portMappings ?? []).some((pm) => pm.name === svc.portName));
    if (owner?.name === undefined) continue;
    const containerPort = (owner.portMappings ?? []).find((pm) => pm.name === svc.portName)?.containerPort;
    const discovery = svc.discoveryName ?? svc.portName;
    const names = [discovery];
    if (namespaceName !== undefined) names.push(`${discovery}.${namespaceName}`);
    for (const alias of svc.clientAliases ?? []) {
      const dns = alias.dnsName ?? (namespaceName === undefined ? discovery : `${discovery}.${namespaceName}`);
      names.push(dns);
      if (containerPort !== undefined && alias.port !== containerPort) portMismatches.push(`${dns}:${alias.port} → ${owner.name}:${containerPort}`);
    }
    aliases[owner.name] = [...new Set([...(aliases[owner.name] ?? []), ...names])];
  }
  return { network: network(config.namespace), aliases, portMismatches };
}

export interface ServiceConnectHooksOptions {
  services: ServiceStore;
  /** The emulator's data directory id (namespace networks are per emulator). */
  owner: string;
  /** The DNS name of a namespace given by ARN (Cloud Map), or undefined when it cannot be known. */
  namespaceName: (region: string, namespace: string) => Promise<string | undefined>;
  logger: Logger;
}

/**
 * The engine hooks that put service tasks on their namespace's network before they are provisioned:
 * awsvpc tasks through their network holder (which every container shares), bridge tasks container by
 * container (only the container owning a port name takes its names).
 */
export function serviceConnectHooks(o: ServiceConnectHooksOptions): TaskEngineHooks {
  const log = o.logger.child({ component: "service-connect" });
  const warned = new Set<string>();
  const once = (key: string, fn: () => void): void => {
    if (warned.has(key)) return;
    warned.add(key);
    fn();
  };

  const configOf = (task: Task): { config: ServiceConnectConfiguration; serviceArn: string } | undefined => {
    const group = task.group;
    if (group === undefined || !group.startsWith("service:") || task.clusterArn === undefined) return undefined;
    const serviceArn = o.services.liveArn(task.clusterArn, group.slice("service:".length));
    const record = serviceArn === undefined ? undefined : o.services.get(serviceArn);
    const deployment = (record?.service.deployments ?? []).find((d) => d.id === task.startedBy);
    const config = deployment?.serviceConnectConfiguration;
    return config === undefined || serviceArn === undefined ? undefined : { config, serviceArn };
  };

  const joinOf = async (task: Task, td: TaskDefinition): Promise<ServiceConnectJoin | undefined> => {
    const found = configOf(task);
    if (found === undefined) return undefined;
    const region = regionOf(task.taskArn) ?? "";
    const ns = found.config.namespace ?? "";
    const name = ns.startsWith("arn:") ? await o.namespaceName(region, ns).catch(() => undefined) : ns;
    const join = serviceConnectJoin(found.config, td, (namespace) => namespaceNetworkName(o.owner, region, name ?? namespace), name);
    if (join === undefined) return undefined;
    const mode = td.networkMode ?? "bridge";
    if (mode !== "bridge" && mode !== "awsvpc") {
      once(`${found.serviceArn}/mode`, () =>
        log.warn("service-connect.network-mode", { service: found.serviceArn, networkMode: mode, message: "Service Connect needs the bridge or awsvpc network mode; the tasks join no namespace" }),
      );
      return undefined;
    }
    if (join.portMismatches.length > 0) {
      once(`${found.serviceArn}/ports`, () =>
        log.warn("service-connect.port-not-mapped", {
          service: found.serviceArn,
          aliases: join.portMismatches,
          message: "a client alias port differs from the container port: locally the name leads to the container itself, so use the container port",
        }),
      );
    }
    return join;
  };

  return {
    async beforeProvision(task, td) {
      const join = await joinOf(task, td);
      if (join === undefined) return undefined;
      // awsvpc: every container shares the holder's interface, which answers to all the names.
      const aliases = (td.networkMode ?? "bridge") === "awsvpc" ? [...new Set(Object.values(join.aliases).flat())] : [];
      return { networks: [{ name: join.network, aliases, shared: true }] };
    },
    async beforeCreate(ctx) {
      if ((ctx.taskDefinition.networkMode ?? "bridge") !== "bridge") return undefined;
      const join = await joinOf(ctx.task, ctx.taskDefinition);
      const aliases = join?.aliases[ctx.containerName];
      if (join === undefined || aliases === undefined) return undefined;
      return { networks: [{ name: join.network, aliases }] };
    },
  };
}
