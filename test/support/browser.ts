// Headless Chromium from Debian's package (/usr/bin/chromium, `apt-get install -y chromium`), driven by
// playwright-core: nothing is downloaded, a fresh profile per launch.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const profile = mkdtempSync(join(tmpdir(), "local-ecs-api-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Chromium aborts requests in flight, even to loopback, when the host's network interfaces change, and Docker
 * changes them whenever a container or network comes or goes (other test files run tasks meanwhile). Such
 * a message is the host's doing, not the page's; the page retries what it must.
 */
export function isNetworkChangeNoise(message: string): boolean {
  return message.includes("net::ERR_NETWORK_CHANGED");
}

/** page.goto, again when Chromium dropped the navigation for a network change. */
export async function gotoPage(page: import("playwright-core").Page, url: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(url);
      return;
    } catch (err) {
      if (attempt === 3 || !isNetworkChangeNoise(String((err as Error).message))) throw err;
    }
  }
}
