import type { EngineFacts, EngineProbe, EngineProbeFactory } from "../../src/runtime/instances/engine-probe.ts";
import type { EngineEndpoint } from "../../src/runtime/instances/instance-config.ts";

export const FAKE_FACTS: EngineFacts = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  serverVersion: "20.10.24",
  apiVersion: "1.41",
  minApiVersion: "1.12",
  osType: "linux",
  architecture: "x86_64",
  loggingDrivers: ["awslogs", "fluentd", "gelf", "journald", "json-file", "local", "splunk", "syslog"],
  volumeDrivers: ["local"],
  product: "docker",
};

/** An engine that answers with fixed facts; tests flip `connected` to play an engine going away. */
export class FakeEngineProbe implements EngineProbe {
  readonly url: string;
  facts_: EngineFacts;
  #connected = true;
  readonly #listeners = new Set<(connected: boolean) => void>();

  constructor(url: string, facts: EngineFacts = FAKE_FACTS) {
    this.url = url;
    this.facts_ = facts;
  }

  async facts(): Promise<EngineFacts> {
    if (!this.#connected) throw new Error(`${this.url} does not answer`);
    return this.facts_;
  }

  watch(listener: (connected: boolean) => void): () => void {
    this.#listeners.add(listener);
    queueMicrotask(() => listener(this.#connected));
    return () => this.#listeners.delete(listener);
  }

  setConnected(connected: boolean): void {
    this.#connected = connected;
    for (const l of this.#listeners) l(connected);
  }
}

/** A probe factory that hands out (and remembers) one FakeEngineProbe per engine URL. */
export function fakeProbes(facts: Partial<Record<string, EngineFacts>> = {}): EngineProbeFactory & { probes: Map<string, FakeEngineProbe> } {
  const probes = new Map<string, FakeEngineProbe>();
  const factory = (endpoint: EngineEndpoint): EngineProbe => {
    const probe = new FakeEngineProbe(endpoint.url, facts[endpoint.url] ?? FAKE_FACTS);
    probes.set(endpoint.url, probe);
    return probe;
  };
  return Object.assign(factory, { probes });
}
