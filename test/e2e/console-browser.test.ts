// The web console in a real browser (Debian's Chromium, headless) against a real server and real Docker:
// a newcomer runs a task, watches it, reads its logs, stops another, and looks at a task definition's JSON.
// One screenshot per view is kept in test-artifacts/console/ (gitignored).
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gotoPage, isNetworkChangeNoise, launchChromium, type Browser } from "../support/browser.ts";
import { removeClusterContainers, TEST_IMAGE } from "../support/docker.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CLUSTER = `console-ui-${process.pid}`;
const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts", "console");

describe("the web console in Chromium", () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  /** Keeps what the page showed when a wait failed, next to the other screenshots. */
  const failWithScreenshot = (name: string) => async (err: unknown) => {
    await shot(name).catch(() => {});
    throw new Error(`${(err as Error).message}\nlive: ${await page.locator("#live").textContent()}; problems: ${problems.join(" | ")}`);
  };
  const go = async (hash: string) => {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestServer({ docker: true });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "console-hello",
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, memory: 32, command: ["sh", "-c", 'echo "greeting: $GREETING"; echo "to stderr" >&2; sleep 3; exit 3'] },
        ],
      }),
    );
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "console-long",
        containerDefinitions: [{ name: "server", image: TEST_IMAGE, memory: 32, stopTimeout: 2, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }],
      }),
    );
    browser = await launchChromium();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: t.url });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on("console", (m) => {
      if ((m.type() === "error" || m.type() === "warning") && !isNetworkChangeNoise(m.text())) problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    await gotoPage(page, `${t.url}/console/`);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await removeClusterContainers(CLUSTER);
  });

  it("shows the clusters with their counts", async () => {
    await page.locator(`tr[data-cluster="${CLUSTER}"]`).waitFor();
    // Set once the page is up: if it ever reloads, it is gone.
    await page.evaluate("window.__sameDocument = true");
    expect(await page.locator("h1").textContent()).toBe("Clusters");
    expect(await page.locator("#live").textContent()).toBe("● Live");
    await shot("clusters");
  });

  it("shows a task definition's JSON, as DescribeTaskDefinition answers it, with a copy button", async () => {
    await page.getByRole("link", { name: "Task definitions" }).click();
    await page.getByRole("link", { name: "console-hello" }).click();
    await page.getByRole("link", { name: "console-hello:1" }).click();
    const pre = page.locator("#task-definition-json");
    await pre.waitFor();
    const shown = JSON.parse((await pre.textContent()) ?? "");
    const described = await t.call("DescribeTaskDefinition", { taskDefinition: "console-hello:1", include: ["TAGS"] });
    expect(shown).toEqual(described.json.taskDefinition);
    await page.getByRole("button", { name: "Copy JSON" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(JSON.parse(await page.evaluate<string>("navigator.clipboard.readText()"))).toEqual(shown);
    await expectEveryControlLabelled(page);
    await shot("task-definition");
  });

  it("runs a task from the form and follows it RUNNING → STOPPED without a reload, with its logs", async () => {
    await page.getByLabel("Cluster").selectOption(CLUSTER);
    await page.getByLabel("Overrides (JSON, optional)").fill(JSON.stringify({ containerOverrides: [{ name: "app", environment: [{ name: "GREETING", value: "hello from the console" }] }] }));
    await page.getByRole("button", { name: "Run task" }).click();
    const started = page.locator("a.started-task");
    await started.waitFor();
    const taskId = (await started.textContent())!;
    await started.click();
    // Generous bounds: on a machine shared with other Docker-heavy suites a start can take long.
    await page.locator('#task-last-status[data-status="RUNNING"]').waitFor({ timeout: 90_000 }).catch(failWithScreenshot("task-failed"));
    const logs = page.getByRole("log");
    await expect.poll(() => logs.textContent(), { timeout: 60_000 }).toContain("greeting: hello from the console");
    await page.locator('#task-last-status[data-status="STOPPED"]').waitFor({ timeout: 90_000 }).catch(failWithScreenshot("task-failed"));
    expect(await page.locator('tr[data-container="app"] .exit-code').textContent()).toBe("3");
    expect(await page.locator("#task-stop-code").textContent()).toBe("EssentialContainerExited");
    expect(await page.evaluate("window.__sameDocument")).toBe(true);
    await expect.poll(() => page.getByRole("status").filter({ hasText: "output ended" }).count(), { timeout: 60_000 }).toBe(1);
    expect(await logs.textContent()).toContain("to stderr");
    expect(await page.locator("ol.timeline li").count()).toBeGreaterThanOrEqual(4);
    // What the page showed is what the API says.
    const { tasks } = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskId] }));
    expect(tasks?.[0]?.containers?.[0]?.exitCode).toBe(3);
    await shot("task");
  }, 240_000);

  it("stops a long-running task from the tasks list, which then shows STOPPED live", async () => {
    const { tasks } = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "console-long" }));
    const taskArn = tasks![0]!.taskArn!;
    const id = taskArn.split("/").pop()!;
    await go(`#/tasks?cluster=${CLUSTER}&status=RUNNING`);
    const row = page.locator(`tr[data-task="${id}"]`);
    await page.locator(`tr[data-task="${id}"][data-last-status="RUNNING"]`).waitFor({ timeout: 90_000 }).catch(failWithScreenshot("tasks-failed"));
    await expectEveryControlLabelled(page);
    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: `Stop task ${id}` }).click();
    await page.locator(`tr[data-task="${id}"][data-last-status="STOPPED"]`).waitFor({ timeout: 90_000 }).catch(failWithScreenshot("tasks-failed"));
    expect(await page.locator(`tr[data-task="${id}"]`).textContent()).toContain("UserInitiated");
    const described = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
    expect(described.tasks?.[0]).toMatchObject({ lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "Task stopped by user" });
    expect(await page.evaluate("window.__sameDocument")).toBe(true);
    await shot("tasks");
  }, 240_000);

  it("shows services (none in this cluster yet) and the container instances, which this server serves now", async () => {
    await page.getByRole("link", { name: "Services" }).click();
    await page.getByText(/^No services in cluster /).waitFor();
    await shot("services");
    await page.getByRole("link", { name: "Container instances" }).click();
    // The local Docker engine is every cluster's container instance: the table shows it as the API does.
    const table = page.getByRole("table", { name: `Container instances of ${CLUSTER}` });
    await table.waitFor().catch(failWithScreenshot("container-instances-failed"));
    const arns = (await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns ?? [];
    const [instance] = (await t.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns }))).containerInstances ?? [];
    const registered = (name: string) => instance?.registeredResources?.find((r) => r.name === name)?.integerValue;
    const text = await table.textContent();
    expect(text).toContain(instance?.ec2InstanceId);
    expect(text).toContain("ACTIVEyes");
    expect(text).toMatch(new RegExp(`\\d+ / ${registered("CPU")}\\d+ / ${registered("MEMORY")}`));
    await shot("container-instances");
  });

  it("shows a running service: its counts, deployment and ECS's events, live", async () => {
    await t.ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: "console-svc", taskDefinition: "console-long", desiredCount: 1 }));
    await go(`#/services?cluster=${CLUSTER}`);
    const card = page.locator('[data-service="console-svc"]');
    await card.getByText("(service console-svc) has reached a steady state.").waitFor({ timeout: 90_000 }).catch(failWithScreenshot("services-failed"));
    expect(await card.textContent()).toContain("1 / 1 / 0");
    expect(await card.textContent()).toContain("COMPLETED");
    await shot("service");
    // The page's own UpdateService calls: a desired count, then a new deployment.
    await card.getByLabel("Desired count").fill("2");
    await card.getByRole("button", { name: "Update desired count" }).click();
    await card.getByText("2 / 2 / 0", { exact: true }).waitFor({ timeout: 90_000 }).catch(failWithScreenshot("services-failed"));
    expect((await t.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["console-svc"] }))).services?.[0]?.desiredCount).toBe(2);
    const first = (await t.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["console-svc"] }))).services?.[0]?.deployments?.[0]?.id;
    await card.getByRole("button", { name: "Force new deployment" }).click();
    // The page reloads after its call: the new PRIMARY deployment beside the one it replaces, then, once the
    // rolling update is done, the new one alone.
    const deployments = card.getByRole("table", { name: "Deployments of console-svc" }).locator("tbody tr");
    await expect.poll(() => deployments.count(), { timeout: 30_000 }).toBe(2);
    const [now] = (await t.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["console-svc"] }))).services?.[0]?.deployments ?? [];
    expect(now?.id).not.toBe(first);
    expect(now?.status).toBe("PRIMARY");
    await expect.poll(() => deployments.allTextContents(), { timeout: 90_000 }).toEqual([expect.stringMatching(new RegExp(`^${now?.id}PRIMARYCOMPLETED`))]);
    expect(await page.locator("#alerts").textContent()).toBe("");
    await shot("service-deploying");
    await t.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "console-svc", force: true }));
  }, 180_000);

  it("can be used with the keyboard alone", async () => {
    // A fresh load (a goto that only changes the hash would stay in the document).
    await gotoPage(page, "about:blank");
    await gotoPage(page, `${t.url}/console/#/clusters`);
    await page.locator(`tr[data-cluster="${CLUSTER}"]`).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate("document.activeElement?.id")).toBe("view");
    expect(await page.evaluate("location.hash")).toBe("#/clusters");
    // Tab to the "Tasks" entry of the navigation and follow it with Enter.
    for (let i = 0; i < 10 && (await page.evaluate("document.activeElement?.textContent")) !== "Tasks"; i++) await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Tasks", level: 1 }).waitFor();
    expect(await page.evaluate("document.activeElement?.tagName")).toBe("H1");
  });

  it("logged no errors or warnings in the page", () => {
    expect(problems).toEqual([]);
  });
});

/** Every form control has an accessible name (a label or aria-label). */
async function expectEveryControlLabelled(page: Page): Promise<void> {
  const unlabelled = await page.evaluate<string[]>(
    `[...document.querySelectorAll("input, select, textarea")].filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label")).map((el) => el.outerHTML)`,
  );
  expect(unlabelled).toEqual([]);
}
