// The container instances of every cluster: the configured engines (CONTAINER_INSTANCES) registered as
// ECS agents would register them, plus RegisterContainerInstance ones. Registration is lazy and
// idempotent: a cluster's configured instances appear the first time the cluster is used (or when their
// engine first answers), with ARNs derived from the configuration so a restart finds the same ones.
// Engine availability comes from each engine's watch (event-driven), never from a call per request.
import type { Attribute, Resource, VersionInfo } from "../../../generated/shapes.ts";
import type { Arns } from "../arns.ts";
import type { TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { ContainerInstanceRecord, ContainerInstanceStore } from "../store/container-instance-store.ts";
import { agentAttributes, instanceTypeFor, registeredResourcesOf, stableHex, versionInfoOf } from "./agent-attributes.ts";
import type { EngineFacts, EngineProbe, EngineProbeFactory } from "./engine-probe.ts";
import type { InstanceSpec } from "./instance-config.ts";

export interface InstanceRegistryOptions {
  specs: readonly InstanceSpec[];
  probeFor: EngineProbeFactory;
  store: ContainerInstanceStore;
  arns: Arns;
  clock: TimeSource;
  logger: Logger;
}

/** A RegisterContainerInstance call (already validated), answered by the default engine. */
export interface ApiRegistration {
  region: string;
  clusterName: string;
  clusterArn: string;
  /** Re-registration of an existing instance keeps its ARN. */
  existing?: ContainerInstanceRecord | undefined;
  ec2InstanceId?: string | undefined;
  availabilityZone?: string | undefined;
  instanceType?: string | undefined;
  amiId?: string | undefined;
  totalResources?: Resource[] | undefined;
  versionInfo?: VersionInfo | undefined;
  attributes?: Attribute[] | undefined;
}

interface EngineState {
  readonly probe: EngineProbe;
  facts: EngineFacts | undefined;
  connected: boolean;
  stop: () => void;
}

export type InstanceChange = { kind: "registered" | "updated" | "connection"; arn?: string };

export class InstanceRegistry {
  readonly #specs: readonly InstanceSpec[];
  readonly #store: ContainerInstanceStore;
  readonly #arns: Arns;
  readonly #clock: TimeSource;
  readonly #logger: Logger;
  readonly #engines = new Map<string, EngineState>();
  /** (region, cluster) pairs in use: a configured engine that comes up later registers in all of them. */
  readonly #used = new Map<string, { region: string; clusterName: string; clusterArn: string }>();
  readonly #listeners = new Set<(change: InstanceChange) => void>();
  readonly #settled: Promise<void>;

  constructor(options: InstanceRegistryOptions) {
    this.#specs = options.specs;
    this.#store = options.store;
    this.#arns = options.arns;
    this.#clock = options.clock;
    this.#logger = options.logger;
    const settling: Promise<void>[] = [];
    for (const spec of this.#specs) {
      if (this.#engines.has(spec.engine.url)) continue;
      const probe = options.probeFor(spec.engine);
      const state: EngineState = { probe, facts: undefined, connected: false, stop: () => {} };
      this.#engines.set(spec.engine.url, state);
      settling.push(
        new Promise<void>((resolve) => {
          state.stop = probe.watch((connected) => void this.#onConnection(state, connected).finally(resolve));
        }),
      );
    }
    // Records of earlier runs: their clusters are in use.
    for (const r of this.#store.all()) {
      if (r.specKey !== undefined) this.#used.set(`${r.region}/${r.clusterName}`, { region: r.region, clusterName: r.clusterName, clusterArn: r.clusterArn });
    }
    this.#settled = Promise.all(settling).then(() => undefined);
  }

  /** Resolves once every engine has answered or been found unreachable (bounded by `timeoutMs`). */
  async ready(timeoutMs = 15_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#settled, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  close(): void {
    for (const e of this.#engines.values()) e.stop();
    this.#listeners.clear();
  }

  /** Called with every registration, status or connection change (for the daemon scheduler). */
  subscribe(listener: (change: InstanceChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The engine URL that answers for API-registered instances (the first configured one). */
  get defaultEngineUrl(): string {
    return this.#specs[0]?.engine.url ?? "unix:///var/run/docker.sock";
  }

  /** Registers the configured instances of a cluster that are not registered yet (idempotent, synchronous). */
  ensureCluster(region: string, clusterName: string, clusterArn: string): void {
    const key = `${region}/${clusterName}`;
    if (!this.#used.has(key)) this.#used.set(key, { region, clusterName, clusterArn });
    for (const spec of this.#specs) {
      if (spec.cluster !== "*" && spec.cluster !== clusterName) continue;
      const facts = this.#engines.get(spec.engine.url)?.facts;
      if (facts === undefined) continue;
      const arn = this.#arnFor(region, clusterName, spec);
      // Registered once; a deregistered (INACTIVE) one stays so until RegisterContainerInstance names it.
      if (this.#store.get(arn) !== undefined) continue;
      this.#save(this.#configuredRecord(region, clusterName, clusterArn, spec, facts, undefined), "registered");
    }
  }

  /** Every instance of a cluster (all statuses), after making sure the configured ones are registered. */
  instances(region: string, clusterName: string, clusterArn: string): ContainerInstanceRecord[] {
    this.ensureCluster(region, clusterName, clusterArn);
    return this.#store.list(region, clusterName).filter((r) => r.clusterArn === clusterArn);
  }

  get(arn: string): ContainerInstanceRecord | undefined {
    return this.#store.get(arn);
  }

  /** Whether the engine behind the instance answers (ContainerInstance.agentConnected). */
  connected(record: ContainerInstanceRecord): boolean {
    if (record.status === "INACTIVE") return false;
    return this.#engines.get(record.engineUrl)?.connected ?? false;
  }

  /** Saves a changed record (status, attributes, …), bumping its version. */
  update(record: ContainerInstanceRecord, change: Partial<ContainerInstanceRecord>): ContainerInstanceRecord {
    return this.#save({ ...record, ...change, version: record.version + 1 }, "updated");
  }

  /** RegisterContainerInstance: a new instance (or the re-registration of `existing`) on the default engine. */
  registerFromApi(r: ApiRegistration): ContainerInstanceRecord {
    const facts = this.#engines.get(this.defaultEngineUrl)?.facts;
    const region = r.region;
    const az = r.availabilityZone ?? `${region}a`;
    const id = r.existing?.id ?? stableHex(`${this.#arns.accountId}/${region}/${r.clusterName}/api/${this.#clock.now().getTime()}/${Math.random()}`, 32);
    const ec2InstanceId = r.ec2InstanceId ?? r.existing?.ec2InstanceId ?? `i-${stableHex(`ec2/${id}`, 17)}`;
    const cpus = facts?.cpus ?? 2;
    const registeredResources = r.totalResources ?? r.existing?.registeredResources ?? registeredResourcesOf(cpus * 1024, Math.floor((facts?.memoryBytes ?? 4 * 2 ** 30) / 2 ** 20));
    const where = this.#where(region, az, r.instanceType ?? instanceTypeFor(cpus, facts?.architecture ?? "x86_64"), r.amiId);
    const base = facts === undefined ? [] : agentAttributes(facts, where);
    const given = new Map((r.attributes ?? []).map((a) => [a.name, a]));
    const agent = [...base.filter((a) => !given.has(a.name)), ...given.values()].map((a) => (a.value === undefined ? { name: a.name } : { name: a.name, value: a.value }));
    const record: ContainerInstanceRecord = {
      region,
      clusterName: r.clusterName,
      clusterArn: r.clusterArn,
      id,
      arn: this.#arns.inRegion(region).containerInstance(r.clusterName, id),
      ec2InstanceId,
      status: "ACTIVE",
      registeredAt: this.#clock.now().getTime(),
      engineUrl: this.defaultEngineUrl,
      registeredResources,
      versionInfo: r.versionInfo ?? (facts === undefined ? {} : versionInfoOf(facts)),
      agentAttributes: agent,
      customAttributes: r.existing?.customAttributes ?? [],
      version: (r.existing?.version ?? 0) + 1,
    };
    return this.#save(record, "registered");
  }

  #arnFor(region: string, clusterName: string, spec: InstanceSpec): string {
    return this.#arns.inRegion(region).containerInstance(clusterName, this.#idFor(region, clusterName, spec));
  }

  #idFor(region: string, clusterName: string, spec: InstanceSpec): string {
    return stableHex(`container-instance/${this.#arns.accountId}/${region}/${clusterName}/${spec.key}`, 32);
  }

  #where(region: string, availabilityZone: string, instanceType: string, amiId?: string) {
    return {
      region,
      availabilityZone,
      instanceType,
      amiId: amiId ?? `ami-${stableHex(`ami/${region}`, 17)}`,
      vpcId: `vpc-${stableHex(`vpc/${this.#arns.accountId}/${region}`, 17)}`,
      subnetId: `subnet-${stableHex(`subnet/${this.#arns.accountId}/${availabilityZone}`, 17)}`,
    };
  }

  #configuredRecord(
    region: string,
    clusterName: string,
    clusterArn: string,
    spec: InstanceSpec,
    facts: EngineFacts,
    previous: ContainerInstanceRecord | undefined,
  ): ContainerInstanceRecord {
    const id = this.#idFor(region, clusterName, spec);
    const az = spec.availabilityZone ?? `${region}a`;
    const cpu = spec.cpu ?? facts.cpus * 1024;
    const memory = spec.memory ?? Math.floor(facts.memoryBytes / 2 ** 20);
    const record: ContainerInstanceRecord = {
      region,
      clusterName,
      clusterArn,
      id,
      arn: this.#arns.inRegion(region).containerInstance(clusterName, id),
      ec2InstanceId: `i-${stableHex(`ec2/${this.#arns.accountId}/${region}/${spec.key}`, 17)}`,
      status: "ACTIVE",
      registeredAt: this.#clock.now().getTime(),
      engineUrl: spec.engine.url,
      specKey: spec.key,
      registeredResources: registeredResourcesOf(cpu, memory),
      versionInfo: versionInfoOf(facts),
      agentAttributes: [
        ...agentAttributes(facts, this.#where(region, az, spec.instanceType ?? instanceTypeFor(facts.cpus, facts.architecture))),
        ...Object.entries(spec.attributes ?? {}).map(([name, value]) => ({ name, value })),
      ],
      customAttributes: [],
      version: (previous?.version ?? 0) + 1,
    };
    if (spec.capacityProvider !== undefined) record.capacityProviderName = spec.capacityProvider;
    return record;
  }

  async #onConnection(state: EngineState, connected: boolean): Promise<void> {
    if (!connected) {
      state.connected = false;
      this.#logger.warn("instance.engine-disconnected", { engine: state.probe.url });
      this.#emit({ kind: "connection" });
      return;
    }
    let facts: EngineFacts;
    try {
      facts = await state.probe.facts();
    } catch (err) {
      this.#logger.warn("instance.engine-facts-failed", { engine: state.probe.url, error: err });
      return;
    }
    state.facts = facts;
    state.connected = true;
    this.#logger.info("instance.engine-connected", { engine: state.probe.url, version: facts.serverVersion, cpus: facts.cpus, memoryBytes: facts.memoryBytes });
    // The agent re-registers on reconnect: versions and capabilities follow an upgraded engine.
    for (const r of this.#store.all()) {
      if (r.engineUrl !== state.probe.url || r.specKey === undefined || r.status === "INACTIVE") continue;
      const spec = this.#specs.find((s) => s.key === r.specKey);
      if (spec === undefined) continue;
      const fresh = this.#configuredRecord(r.region, r.clusterName, r.clusterArn, spec, facts, r);
      if (JSON.stringify(fresh.versionInfo) !== JSON.stringify(r.versionInfo) || JSON.stringify(fresh.agentAttributes) !== JSON.stringify(r.agentAttributes)) {
        this.#save({ ...r, versionInfo: fresh.versionInfo, agentAttributes: fresh.agentAttributes, version: r.version + 1 }, "updated");
      }
    }
    for (const u of this.#used.values()) this.ensureCluster(u.region, u.clusterName, u.clusterArn);
    this.#emit({ kind: "connection" });
  }

  #save(record: ContainerInstanceRecord, kind: InstanceChange["kind"]): ContainerInstanceRecord {
    const stored = this.#store.save(record);
    this.#emit({ kind, arn: stored.arn });
    return stored;
  }

  #emit(change: InstanceChange): void {
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#logger.warn("instance.listener-failed", { error: err });
      }
    }
  }
}
