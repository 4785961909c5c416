// Container instances of a cluster (ListContainerInstances + DescribeContainerInstances).
import { badge, clusterName, coalesce, h, lastPart, mount, table, timeEl } from "../dom.js";
import { available, describeChunked, listAll, pickCluster } from "../ecs.js";
import { clusterSelect, unavailable } from "./pickers.js";

export async function render(ctx) {
  const cluster = pickCluster(ctx.query);
  const picker = await clusterSelect(cluster, (e) => ctx.replace(`#/container-instances?cluster=${encodeURIComponent(e.target.value)}`));
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading container instances…"));
  if (!ctx.current) return;
  mount(ctx.main, h("h1", { tabindex: "-1" }, "Container instances"), h("form", { class: "filters", "aria-label": "Pick a cluster", onsubmit: (e) => e.preventDefault() }, picker), body);

  const missing = ["ListContainerInstances", "DescribeContainerInstances"].find((op) => !available(op));
  if (missing !== undefined) {
    body.removeAttribute("aria-busy");
    mount(body, unavailable("Container instances", missing));
    return;
  }

  const load = async () => {
    const arns = await listAll("ListContainerInstances", { cluster }, "containerInstanceArns");
    const { results } = await describeChunked("DescribeContainerInstances", { cluster }, "containerInstances", arns, "containerInstances", 100);
    if (!ctx.current) return;
    body.removeAttribute("aria-busy");
    if (results.length === 0) {
      mount(body, h("p", { class: "empty" }, `No container instances in cluster ${cluster}.`));
      return;
    }
    const resource = (list, name) => {
      const r = (list ?? []).find((x) => x.name === name);
      return r?.integerValue ?? "—";
    };
    mount(
      body,
      table(
        `Container instances of ${cluster}`,
        ["Instance", "EC2 instance", "Status", "Agent connected", "Running", "Pending", "CPU left / total", "Memory left / total", "Registered"],
        results.map((ci) =>
          h(
            "tr",
            null,
            h("th", { scope: "row" }, h("code", null, lastPart(ci.containerInstanceArn).slice(0, 12))),
            h("td", null, ci.ec2InstanceId ?? "—"),
            h("td", { title: ci.statusReason ?? "" }, badge(ci.status)),
            h("td", null, ci.agentConnected ? "yes" : "no"),
            h("td", { class: "num" }, ci.runningTasksCount ?? 0),
            h("td", { class: "num" }, ci.pendingTasksCount ?? 0),
            h("td", { class: "num" }, `${resource(ci.remainingResources, "CPU")} / ${resource(ci.registeredResources, "CPU")}`),
            h("td", { class: "num" }, `${resource(ci.remainingResources, "MEMORY")} / ${resource(ci.registeredResources, "MEMORY")}`),
            h("td", null, timeEl(ci.registeredAt)),
          ),
        ),
      ),
    );
  };

  // Placing or stopping a task changes an instance's counts and remaining resources.
  const refresh = coalesce(() => load().catch(ctx.showError), 500);
  ctx.onCleanup(refresh.cancel);
  ctx.onTask((t) => {
    if (clusterName(t.clusterArn) === cluster) refresh();
  });
  ctx.onReconnect(refresh);
  await load();
}
