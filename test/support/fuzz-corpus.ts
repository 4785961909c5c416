// The seeded mutation fuzzer shared by test/runtime/fuzz.test.ts (in-process) and
// test/reliability/bad-input.test.ts (10,000 requests against a child-process server).

/** mulberry32: deterministic, so a failure replays from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEEDS: Array<[string, unknown]> = [
  ["RegisterTaskDefinition", {
    family: "fuzz",
    networkMode: "bridge",
    containerDefinitions: [
      { name: "app", image: "busybox", memory: 128, cpu: 10, essential: true, portMappings: [{ containerPort: 80, hostPort: 0, protocol: "tcp" }], environment: [{ name: "A", value: "1" }], dependsOn: [{ containerName: "side", condition: "START" }], healthCheck: { command: ["CMD-SHELL", "true"], interval: 5 } },
      { name: "side", image: "busybox", memoryReservation: 64, essential: false, command: ["sleep", "1"] },
    ],
    tags: [{ key: "team", value: "a" }],
  }],
  ["DescribeTaskDefinition", { taskDefinition: "fuzz:1", include: ["TAGS"] }],
  ["ListTaskDefinitions", { familyPrefix: "fu", status: "ACTIVE", sort: "DESC", maxResults: 10 }],
  ["CreateCluster", { clusterName: "fuzz", tags: [{ key: "a", value: "b" }], settings: [{ name: "containerInsights", value: "enabled" }] }],
  ["DescribeClusters", { clusters: ["fuzz", "default"], include: ["TAGS", "SETTINGS"] }],
  ["ListClusters", { maxResults: 5 }],
  ["TagResource", { resourceArn: "arn:aws:ecs:us-east-1:000000000000:cluster/fuzz", tags: [{ key: "x", value: "y" }] }],
  ["PutAccountSetting", { name: "containerInsights", value: "enabled" }],
  ["ListAccountSettings", { effectiveSettings: true }],
  ["DescribeTasks", { cluster: "fuzz", tasks: ["arn:aws:ecs:us-east-1:000000000000:task/fuzz/0123456789abcdef0123456789abcdef", "0123"], include: ["TAGS"] }],
  ["ListTasks", { cluster: "fuzz", desiredStatus: "STOPPED", family: "fuzz", maxResults: 10 }],
  ["StopTask", { cluster: "fuzz", task: "0123456789abcdef0123456789abcdef", reason: "fuzz" }],
];

const WEIRD: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 31) - 1, "", "x".repeat(300), "💥", "\u0000", [], [null], {}, { a: 1 }, "arn:aws:ecs:us-east-1:000000000000:task-definition/fuzz:1"];

export function mutate(value: unknown, next: () => number, depth = 0): unknown {
  const r = next();
  if (depth > 0 && r < 0.08) return WEIRD[Math.floor(next() * WEIRD.length)];
  if (Array.isArray(value)) {
    const copy = value.map((v) => (next() < 0.3 ? mutate(v, next, depth + 1) : v));
    if (next() < 0.1) copy.push(WEIRD[Math.floor(next() * WEIRD.length)]);
    if (next() < 0.1) copy.pop();
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key of Object.keys(copy)) {
      const p = next();
      if (p < 0.1) delete copy[key];
      else if (p < 0.4) copy[key] = mutate(copy[key], next, depth + 1);
    }
    if (next() < 0.05) copy["unexpected" + Math.floor(next() * 10)] = WEIRD[Math.floor(next() * WEIRD.length)];
    return copy;
  }
  return depth === 0 ? value : r < 0.5 ? WEIRD[Math.floor(next() * WEIRD.length)] : value;
}

/** The next fuzzed request: an operation and a body (sometimes truncated JSON). */
export function nextRequest(next: () => number): { operation: string; body: string } {
  const [operation, base] = SEEDS[Math.floor(next() * SEEDS.length)]!;
  const body = next() < 0.03 ? JSON.stringify(base).slice(0, Math.floor(next() * 40)) : JSON.stringify(mutate(base, next));
  return { operation, body };
}
