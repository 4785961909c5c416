// Clusters with their counts (DescribeClusters), refreshed when a task changes.
import { badge, coalesce, h, mount, table } from "../dom.js";
import { describeChunked, listAll } from "../ecs.js";

export async function render(ctx) {
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading clusters…"));
  mount(ctx.main, h("h1", { tabindex: "-1" }, "Clusters"), body);

  const load = async () => {
    const arns = await listAll("ListClusters", {}, "clusterArns");
    const { results } = await describeChunked("DescribeClusters", { include: ["STATISTICS"] }, "clusters", arns, "clusters", 100);
    if (!ctx.current) return;
    results.sort((a, b) => a.clusterName.localeCompare(b.clusterName));
    body.removeAttribute("aria-busy");
    if (results.length === 0) {
      mount(body, h("p", { class: "empty" }, "No clusters yet. RunTask creates the ", h("code", null, "default"), " cluster on first use."));
      return;
    }
    mount(
      body,
      table(
        "Clusters in this region",
        ["Cluster", "Status", "Running tasks", "Pending tasks", "Active services", "Container instances", ""],
        results.map((c) =>
          h(
            "tr",
            { "data-cluster": c.clusterName },
            h("th", { scope: "row" }, h("a", { href: `#/tasks?cluster=${encodeURIComponent(c.clusterName)}` }, c.clusterName)),
            h("td", null, badge(c.status)),
            h("td", { class: "num", "data-field": "running" }, c.runningTasksCount ?? 0),
            h("td", { class: "num", "data-field": "pending" }, c.pendingTasksCount ?? 0),
            h("td", { class: "num" }, c.activeServicesCount ?? 0),
            h("td", { class: "num" }, c.registeredContainerInstancesCount ?? 0),
            h(
              "td",
              null,
              h("a", { href: `#/services?cluster=${encodeURIComponent(c.clusterName)}` }, "Services"),
              " · ",
              h("a", { href: `#/container-instances?cluster=${encodeURIComponent(c.clusterName)}` }, "Instances"),
            ),
          ),
        ),
      ),
    );
  };

  const refresh = coalesce(() => load().catch(ctx.showError), 400);
  ctx.onCleanup(refresh.cancel);
  ctx.onTask(refresh);
  ctx.onReconnect(refresh);
  await load();
}
