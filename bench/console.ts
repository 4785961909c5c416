// Benchmark 6: the web console's first paint. Cold loads of /console/ in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core, a fresh browser context per sample so nothing is cached):
// first contentful paint, and the time until the clusters table (the first view's data, read through the
// ECS API) is on screen. Baseline: the first paint of a one-line static page from a bare node:http server
// in the same browser, same run. Target: first paint < 200 ms.
// Run alone: node bench/console.ts
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser } from "playwright-core";
import { emitResult, printTable, progress } from "./lib/report.ts";
import { spawnServer } from "./lib/server-process.ts";
import { round, summarize } from "./lib/stats.ts";

const SAMPLES = Number(process.env["BENCH_CONSOLE_SAMPLES"] ?? 10);
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

interface Load {
  /** Navigation start → first byte of the HTML (the server's share). */
  firstByteMs: number;
  firstPaintMs: number;
  readyMs: number;
}

/** One cold load; again if Chromium dropped it for a network change (Docker adds and removes interfaces). */
async function load(browser: Browser, url: string, readySelector: string): Promise<Load> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadOnce(browser, url, readySelector);
    } catch (err) {
      if (attempt === 3 || !String((err as Error).message).includes("ERR_NETWORK_CHANGED")) throw err;
      progress("a load was dropped for a network change; again");
    }
  }
}

async function loadOnce(browser: Browser, url: string, readySelector: string): Promise<Load> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForSelector(readySelector, { timeout: 15_000 }).catch(async (err: Error) => {
      throw new Error(`${url} did not show ${readySelector}: ${err.message}; page errors: ${problems.join(" | ")}; main: ${await page.locator("body").innerText()}`);
    });
    return await page.evaluate<Load>(`(() => {
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      const nav = performance.getEntriesByType("navigation")[0];
      return { firstByteMs: nav ? nav.responseStart : NaN, firstPaintMs: fcp ? fcp.startTime : NaN, readyMs: performance.now() };
    })()`);
  } finally {
    await context.close();
  }
}

if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
const staticPage = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>x</title><p id=x>hello</p>"));
await new Promise<void>((r) => staticPage.listen(0, "127.0.0.1", r));
const staticUrl = `http://127.0.0.1:${(staticPage.address() as AddressInfo).port}/`;
const server = await spawnServer();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
try {
  const consoleUrl = `${server.url}/console/`;
  // Warm-up: the server reads the page's files once, the browser starts its processes.
  await load(browser, consoleUrl, "table, .empty");
  await load(browser, staticUrl, "#x");
  const consoleLoads: Load[] = [];
  const staticLoads: Load[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    // Alternated, so load drift hits both alike.
    consoleLoads.push(await load(browser, consoleUrl, "table, .empty"));
    staticLoads.push(await load(browser, staticUrl, "#x"));
    progress(`sample ${i + 1}/${SAMPLES}`);
  }
  const paint = summarize(consoleLoads.map((l) => l.firstPaintMs));
  const ready = summarize(consoleLoads.map((l) => l.readyMs));
  const baseline = summarize(staticLoads.map((l) => l.firstPaintMs));
  const firstByte = summarize(consoleLoads.map((l) => l.firstByteMs));
  const baselineFirstByte = summarize(staticLoads.map((l) => l.firstByteMs));
  const met = paint.median < 200;
  printTable(`Console first paint (${SAMPLES} cold loads each, ms)`, [
    { figure: "console first contentful paint", median: round(paint.median), p95: round(paint.p95), target: "< 200 ms", status: met ? "met" : "MISSED" },
    { figure: "console first byte of the page", median: round(firstByte.median), p95: round(firstByte.p95), target: "(none)", status: "" },
    { figure: "console clusters table on screen", median: round(ready.median), p95: round(ready.p95), target: "(none)", status: "" },
    { figure: "baseline: static page first paint", median: round(baseline.median), p95: round(baseline.p95), target: "", status: "" },
    { figure: "baseline: static page first byte", median: round(baselineFirstByte.median), p95: round(baselineFirstByte.p95), target: "", status: "" },
  ]);
  emitResult("console", { firstPaint: paint, firstByte, clustersReady: ready, staticBaseline: baseline, staticFirstByte: baselineFirstByte, met });
} finally {
  await browser.close();
  await server.stop();
  staticPage.close();
}
