// The console's services and container instances views against an ECS API that serves them upstream: a
// server without Docker (control plane only) forwards the service and container instance operations to moto
// through ECS_ENDPOINT_URL. The actions are UpdateService calls the page makes itself. (With Docker these
// views show the server's own services and instances: console-browser.test.ts.)
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gotoPage, isNetworkChangeNoise, launchChromium, type Browser } from "../support/browser.ts";
import { startMoto, type MotoServer } from "../support/moto.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CLUSTER = "shop";
// The server signs what it forwards with its own credentials (the default chain reads these).
process.env["AWS_ACCESS_KEY_ID"] = "testing";
process.env["AWS_SECRET_ACCESS_KEY"] = "testing";
const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts", "console");

describe("the console's services and container instances views (moto upstream, Chromium)", () => {
  let moto: MotoServer;
  let upstream: ECSClient;
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let instanceId = "";

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    moto = await startMoto();
    upstream = new ECSClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    // The services live upstream; the cluster exists on both sides (ListClusters is answered locally).
    await upstream.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await upstream.send(new RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [{ name: "web", image: "nginx", memory: 64 }] }));
    await upstream.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: "web", taskDefinition: "web", desiredCount: 2 }));
    // moto registers only instances its EC2 knows: launch one (EC2 query API; no EC2 SDK needed).
    const launched = await fetch(moto.endpoint, {
      method: "POST",
      headers: { authorization: "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0" },
      body: new URLSearchParams({ Action: "RunInstances", ImageId: "ami-12c6146b", MinCount: "1", MaxCount: "1", Version: "2016-11-15" }),
    });
    instanceId = /<instanceId>([^<]+)</.exec(await launched.text())![1]!;
    await upstream.send(
      new RegisterContainerInstanceCommand({
        cluster: CLUSTER,
        instanceIdentityDocument: JSON.stringify({ instanceId, region: "us-east-1" }),
        totalResources: [
          { name: "CPU", type: "INTEGER", integerValue: 2048 },
          { name: "MEMORY", type: "INTEGER", integerValue: 3768 },
        ],
      }),
    );
    t = await startTestServer({ env: { ECS_ENDPOINT_URL: moto.endpoint } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !isNetworkChangeNoise(m.text())) problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    upstream?.destroy();
    await moto?.stop();
  });

  it("shows a service and changes its desired count, then forces a new deployment, through UpdateService", async () => {
    await gotoPage(page, `${t.url}/console/#/services?cluster=${CLUSTER}`);
    const card = page.locator('section[data-service="web"]');
    await card.waitFor();
    // Desired / running / pending, as moto reports them.
    expect(await card.textContent()).toMatch(/Desired \/ running \/ pending2 \/ \d+ \/ \d+/);
    await card.getByLabel("Desired count").fill("3");
    await card.getByRole("button", { name: "Update desired count" }).click();
    await expect.poll(async () => (await upstream.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["web"] }))).services?.[0]?.desiredCount).toBe(3);
    await page.locator('section[data-service="web"]').getByText(/^3 \/ \d+ \/ \d+$/).waitFor();
    const force = page.locator('section[data-service="web"]').getByRole("button", { name: "Force new deployment" });
    await force.click();
    await expect.poll(() => page.locator('section[data-service="web"]').getByRole("button", { name: "Force new deployment" }).isEnabled()).toBe(true);
    expect(await page.locator("#alerts").textContent()).toBe("");
    await page.screenshot({ path: join(ARTIFACTS, "services-upstream.png"), fullPage: true });
  });

  it("lists the container instances", async () => {
    await page.getByRole("link", { name: "Container instances" }).click();
    const table = page.getByRole("table", { name: `Container instances of ${CLUSTER}` });
    await table.waitFor().catch(async (err) => {
      await page.screenshot({ path: join(ARTIFACTS, "container-instances-upstream-failed.png"), fullPage: true });
      throw err;
    });
    expect(await table.textContent()).toContain(instanceId);
    // CPU and memory left / registered, as moto computes them.
    expect(await table.textContent()).toMatch(/ACTIVEyes00\d+ \/ \d+\d+ \/ \d+/);
    await page.screenshot({ path: join(ARTIFACTS, "container-instances-upstream.png"), fullPage: true });
  });

  it("logged no errors or warnings in the page", () => {
    expect(problems).toEqual([]);
  });
});
