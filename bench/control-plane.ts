// Benchmark 4: RegisterTaskDefinition and DescribeTaskDefinition throughput on a store holding 5,000
// revisions, against the node:http echo server in the same run. Run alone: node bench/control-plane.ts
import { mapLimit } from "./lib/concurrency.ts";
import { startEchoServer } from "./lib/echo-baseline.ts";
import { ecsCall } from "./lib/ecs-call.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer, tempDir } from "./lib/server-process.ts";
import { ratio, round } from "./lib/stats.ts";
import { runWrk, writeWrkScript, type WrkRequest, type WrkResult } from "./lib/wrk.ts";

const REVISIONS = Number(process.env["BENCH_REVISIONS"] ?? 5000);
const DURATION = Number(process.env["BENCH_WRK_SECONDS"] ?? 4);
const CONNECTIONS = [1, 16];
const FAMILIES = 5;

function registration(family: string, i: number): Record<string, unknown> {
  return {
    family,
    networkMode: "bridge",
    containerDefinitions: [
      {
        name: "app",
        image: "local-ecs-api-test/busybox:latest",
        memory: 64,
        essential: true,
        command: ["sh", "-c", `echo ${i}; sleep 1`],
        environment: [{ name: "REVISION_HINT", value: String(i) }],
        portMappings: [{ containerPort: 8080, hostPort: 0, protocol: "tcp" }],
      },
    ],
  };
}

export async function controlPlaneBenchmark(): Promise<Record<string, unknown>> {
  const scripts = tempDir("lecs-bench-wrk-");
  const server = await spawnServer();
  const echo = await startEchoServer();
  try {
    progress(`seeding ${REVISIONS} task definition revisions over ${FAMILIES} families`);
    const seedStart = performance.now();
    await mapLimit(
      Array.from({ length: REVISIONS }, (_, i) => i),
      16,
      (i) => ecsCall(server.url, "RegisterTaskDefinition", registration(`bench-cp-${i % FAMILIES}`, i)),
    );
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const perFamily = REVISIONS / FAMILIES;

    // Latest-by-family, family:revision and full ARN look-ups, spread over the store.
    const describe: WrkRequest[] = [];
    for (let k = 0; k < 30; k++) {
      const fam = `bench-cp-${k % FAMILIES}`;
      const rev = 1 + Math.floor(((k * 7919) % perFamily));
      const ref = k % 3 === 0 ? fam : k % 3 === 1 ? `${fam}:${rev}` : `arn:aws:ecs:us-east-1:000000000000:task-definition/${fam}:${rev}`;
      describe.push({ operation: "DescribeTaskDefinition", body: JSON.stringify({ taskDefinition: ref }) });
    }
    const register: WrkRequest[] = Array.from({ length: 10 }, (_, k) => ({
      operation: "RegisterTaskDefinition",
      body: JSON.stringify(registration(`bench-cp-wrk-${k}`, k)),
    }));

    const rows: Array<Record<string, string | number>> = [];
    const results: Record<string, unknown> = {};
    for (const [name, requests] of [
      ["DescribeTaskDefinition", describe],
      ["RegisterTaskDefinition", register],
    ] as const) {
      const script = await writeWrkScript(scripts, `${name}-server`, server.url, requests);
      const echoScript = await writeWrkScript(scripts, `${name}-echo`, echo.url, requests);
      for (const c of CONNECTIONS) {
        progress(`${name} at ${c} connection(s)`);
        const s: WrkResult = await runWrk(server.url, script, c, DURATION);
        const e: WrkResult = await runWrk(echo.url, echoScript, c, DURATION);
        rows.push({
          operation: name,
          conns: c,
          "req/s": round(s.requestsPerSec, 0),
          "echo req/s": round(e.requestsPerSec, 0),
          "vs echo": ratio(s.requestsPerSec, e.requestsPerSec),
          "p50 ms": s.p50,
          "p99 ms": s.p99,
          "echo p99 ms": e.p99,
          errors: s.non2xx + s.socketErrors,
        });
        results[`${name}.c${c}`] = { server: s, echo: e, ratio: ratio(s.requestsPerSec, e.requestsPerSec) };
      }
    }
    const revisionsAtEnd = (await ecsCall<{ taskDefinitionArns: string[] }>(server.url, "ListTaskDefinitions", { familyPrefix: "bench-cp-0", sort: "DESC", maxResults: 1 })).taskDefinitionArns[0];
    printTable(`Control plane on ${REVISIONS} revisions (${FAMILIES} families), wrk ${DURATION}s per row`, rows);
    note(`seeding ${REVISIONS} RegisterTaskDefinition through the API (16 in flight): ${round(seedSeconds, 1)} s = ${round(REVISIONS / seedSeconds, 0)} req/s; latest bench-cp-0 revision: ${revisionsAtEnd ?? "?"}`);
    return { revisions: REVISIONS, seedRequestsPerSec: round(REVISIONS / seedSeconds, 0), results };
  } finally {
    await server.stop();
    await echo.dispose();
    removeDir(server.dataDir);
    removeDir(scripts);
  }
}

if (import.meta.main) {
  emitResult("control-plane", await controlPlaneBenchmark());
}
