// `npm run bench`: every benchmark, each in its own process (so none inherits another's heap or
// sockets), then one summary table and one JSON line with everything.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { note, printTable, RESULT_PREFIX } from "./lib/report.ts";
import { REPO_ROOT } from "./lib/server-process.ts";
import { round } from "./lib/stats.ts";

const BENCHMARKS = ["run-task", "burst", "describe-tasks", "control-plane", "footprint", "console", "placement", "services"] as const;

function runOne(name: string, env: Record<string, string>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "bench", `${name}.ts`)], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let result: Record<string, any> | undefined;
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith(RESULT_PREFIX)) result = JSON.parse(line);
        else process.stdout.write(line + "\n");
      }
    });
    child.on("exit", (code) => {
      if (code === 0 && result !== undefined) resolve(result);
      else reject(new Error(`bench/${name}.ts exited with ${code}`));
    });
  });
}

const only = process.argv.slice(2);
const started = performance.now();
const results: Record<string, Record<string, any>> = {};
const failures: string[] = [];
for (const name of BENCHMARKS) {
  if (only.length > 0 && !only.includes(name)) continue;
  const env: Record<string, string> = {};
  process.stdout.write(`\n# ${name}\n`);
  const t = performance.now();
  try {
    results[name] = await runOne(name, env);
  } catch (err) {
    failures.push(`${name}: ${(err as Error).message}`);
  }
  note(`(${name}: ${Math.round((performance.now() - t) / 1000)} s)`);
}

const rows: Array<Record<string, string | number>> = [];
const rt = results["run-task"];
for (const r of rt?.["results"] ?? []) {
  rows.push({ figure: `RunTask→RUNNING ${r.scenario} (median)`, ratio: `${r.medianRatio}× ${r.floor}`, target: `≤ ${r.target}×`, status: r.met ? "met" : "MISSED" });
  if (r.other !== undefined && "medianRatio" in r.other) rows.push({ figure: `  … vs ${r.other.floor}`, ratio: `${r.other.medianRatio}×`, target: "(reference)", status: "" });
}
const b = results["burst"];
if (b !== undefined) {
  rows.push({ figure: "burst: 100 tasks all RUNNING", ratio: `${Math.round((b["allRunningMs"] / b["budgetMs"]) * 100) / 100}× budget`, target: "≤ 1× 3·single·ceil(100/P)", status: b["met"] ? "met" : "MISSED" });
}
const d = results["describe-tasks"];
for (const [key, v] of Object.entries<any>(d?.["results"] ?? {})) {
  rows.push({ figure: `${key} req/s vs echo`, ratio: `${v.ratio}×`, target: "≥ 0.5×", status: v.ratio >= 0.5 ? "met" : "MISSED" });
  if (key.endsWith(".c16")) rows.push({ figure: `${key} p99`, ratio: `${v.server.p99} ms`, target: "< 10 ms", status: v.server.p99 < 10 ? "met" : "MISSED" });
}
const large = d?.["large"];
if (large !== undefined) {
  rows.push({ figure: `restart with ${large.tasks} tasks → first answer`, ratio: `${large.restartMs} ms`, target: `≤ ${large.targetRestartMs} ms`, status: large.restartMs <= large.targetRestartMs ? "met" : "MISSED" });
  rows.push({ figure: `… → first DescribeTasks (tasks re-adopted)`, ratio: `${large.restartTasksMs} ms`, target: "(reported)", status: "" });
  for (const [key, v] of Object.entries<any>(large.results ?? {})) {
    rows.push({ figure: `${large.tasks} tasks: ${key} req/s vs echo`, ratio: `${v.ratio}×`, target: "≥ 0.5×", status: v.ratio >= 0.5 ? "met" : "MISSED" });
    rows.push({ figure: `${large.tasks} tasks: ${key} p99`, ratio: `${v.server.p99} ms`, target: "< 10 ms", status: v.server.p99 < 10 ? "met" : "MISSED" });
  }
}
for (const [key, v] of Object.entries<any>(results["control-plane"]?.["results"] ?? {})) {
  rows.push({ figure: `${key} req/s vs echo`, ratio: `${v.ratio}×`, target: "(none)", status: "" });
}
const ui = results["console"];
if (ui !== undefined) {
  rows.push({ figure: "console first paint (median)", ratio: `${round(ui["firstPaint"].median)} ms (static page ${round(ui["staticBaseline"].median)} ms)`, target: "< 200 ms", status: ui["met"] ? "met" : "MISSED" });
}
for (const r of results["placement"]?.["results"] ?? []) {
  rows.push({
    figure: `placement per RunTask, ${r.instances} instances / ${r.tasks} tasks (median)`,
    ratio: `${Math.round(r.medianMs * 100) / 100} ms`,
    target: r.met === undefined ? "(slope)" : "≤ 1 ms",
    status: r.met === undefined ? "" : r.met ? "met" : "MISSED",
  });
}
const f = results["footprint"];
if (f !== undefined) {
  const t = f["targets"];
  const c = f["checks"];
  const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  const st = (ok: boolean): string => (ok ? "met" : "MISSED");
  rows.push({ figure: "start → first answered ECS call", ratio: `${f["startupMs"]} ms = ${Math.round((f["startupMs"] / f["echoStartupMs"]) * 100) / 100}× bare node:http`, target: `≤ ${t.startupMs} ms, ≤ ${t.startupRatio}×`, status: st(c.startup) });
  rows.push({ figure: "… → first answered ListTasks (Docker side up)", ratio: `${f["taskSideStartupMs"]} ms`, target: "(reported)", status: "" });
  rows.push({ figure: "--version", ratio: `${f["versionMs"]} ms (node -e 0: ${f["bareNodeMs"]} ms)`, target: `≤ ${t.versionMs} ms`, status: st(c.version) });
  rows.push({ figure: "idle RSS", ratio: `${mib(f["idleRssBytes"])} MiB (bare node:http ${mib(f["echoIdleRssBytes"])})`, target: `≤ ${t.idleRssMiB} MiB`, status: st(c.idleRss) });
  rows.push({ figure: "RSS after one RunTask", ratio: `${mib(f["oneRunTaskRssBytes"])} MiB`, target: `≤ ${t.oneTaskRssMiB} MiB`, status: st(c.oneTaskRss) });
  rows.push({ figure: `live heap per stored task (${f["storedTasks"]})`, ratio: `${Math.round(f["heapPerTaskBytes"] / 102.4) / 10} KiB`, target: `≤ ${t.perTaskKiB} KiB`, status: st(c.perTaskRetained) });
  rows.push({ figure: `RSS per stored task (${f["storedTasks"]})`, ratio: `${Math.round(f["rssPerTaskBytes"] / 102.4) / 10} KiB`, target: `≤ ${t.perTaskKiB} KiB`, status: st(c.perTaskRss) });
}
for (const r of results["services"]?.["results"] ?? []) {
  rows.push({ figure: `CreateService→steady ${r.scenario} (median)`, ratio: `${r.steadyRatio}× 3 docker run at once`, target: "(none)", status: "" });
}
printTable(`Summary — ${new Date().toISOString()}, ${availableParallelism()} CPUs, ${Math.round((performance.now() - started) / 1000)} s`, rows);
for (const f of failures) note(`FAILED ${f}`);
process.stdout.write(JSON.stringify({ benchmark: "all", date: new Date().toISOString(), cpus: availableParallelism(), results, failures }) + "\n");
process.exit(failures.length === 0 ? 0 : 1);
