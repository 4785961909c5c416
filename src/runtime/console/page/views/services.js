// Services of a cluster (ListServices + DescribeServices): counts, deployments with their rollout state,
// recent events, and the two actions (desired count, force a new deployment), both UpdateService calls.
import { badge, clusterName, coalesce, familyRevision, h, mount, table, timeEl } from "../dom.js";
import { available, describeChunked, ecs, listAll, pickCluster } from "../ecs.js";
import { clusterSelect, unavailable } from "./pickers.js";

export async function render(ctx) {
  const cluster = pickCluster(ctx.query);
  const picker = await clusterSelect(cluster, (e) => ctx.replace(`#/services?cluster=${encodeURIComponent(e.target.value)}`));
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading services…"));
  if (!ctx.current) return;
  mount(ctx.main, h("h1", { tabindex: "-1" }, "Services"), h("form", { class: "filters", "aria-label": "Pick a cluster", onsubmit: (e) => e.preventDefault() }, picker), body);

  const missing = ["ListServices", "DescribeServices"].find((op) => !available(op));
  if (missing !== undefined) {
    body.removeAttribute("aria-busy");
    mount(body, unavailable("Services", missing));
    return;
  }

  const load = async () => {
    const arns = await listAll("ListServices", { cluster }, "serviceArns");
    const { results } = await describeChunked("DescribeServices", { cluster }, "services", arns, "services", 10);
    if (!ctx.current) return;
    body.removeAttribute("aria-busy");
    if (results.length === 0) {
      mount(body, h("p", { class: "empty" }, `No services in cluster ${cluster}.`));
      return;
    }
    results.sort((a, b) => a.serviceName.localeCompare(b.serviceName));
    mount(body, results.map((s) => serviceCard(s, cluster, ctx, load)));
  };

  // A service's counts move with its tasks: re-read when one of this cluster's service tasks changes.
  const refresh = coalesce(() => load().catch(ctx.showError), 500);
  ctx.onCleanup(refresh.cancel);
  ctx.onTask((t) => {
    if (clusterName(t.clusterArn) === cluster && String(t.group ?? "").startsWith("service:")) refresh();
  });
  ctx.onReconnect(refresh);
  await load();
}

function serviceCard(s, cluster, ctx, reload) {
  const id = `svc-${s.serviceName}`;
  const update = async (input, button) => {
    button.disabled = true;
    try {
      await ecs("UpdateService", { cluster, service: s.serviceArn ?? s.serviceName, ...input });
      await reload();
    } catch (err) {
      ctx.showError(err);
    } finally {
      button.disabled = false;
    }
  };
  return h(
    "section",
    { class: "card", "aria-labelledby": id, "data-service": s.serviceName },
    h("h2", { id }, s.serviceName, " ", badge(s.status)),
    h(
      "dl",
      { class: "facts" },
      [
        ["Desired / running / pending", `${s.desiredCount ?? 0} / ${s.runningCount ?? 0} / ${s.pendingCount ?? 0}`],
        ["Task definition", familyRevision(s.taskDefinition)],
        ["Launch type", s.launchType ?? ((s.capacityProviderStrategy ?? []).map((c) => c.capacityProvider).join(", ") || "—")],
        ["Scheduling", s.schedulingStrategy ?? "REPLICA"],
      ].map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
    ),
    h(
      "form",
      {
        class: "filters",
        "aria-label": `Change ${s.serviceName}`,
        onsubmit: (e) => {
          e.preventDefault();
          update({ desiredCount: Number(e.currentTarget.elements.desiredCount.value) }, e.currentTarget.querySelector("button[type=submit]"));
        },
      },
      h(
        "span",
        { class: "field" },
        h("label", { for: `${id}-desired` }, "Desired count"),
        h("input", { id: `${id}-desired`, name: "desiredCount", type: "number", min: "0", value: String(s.desiredCount ?? 0), required: true }),
      ),
      h("button", { type: "submit" }, "Update desired count"),
      h("button", { type: "button", onclick: (e) => update({ forceNewDeployment: true }, e.currentTarget) }, "Force new deployment"),
    ),
    table(
      `Deployments of ${s.serviceName}`,
      ["Deployment", "Status", "Rollout", "Task definition", "Desired", "Running", "Pending", "Failed", "Updated"],
      (s.deployments ?? []).map((d) =>
        h(
          "tr",
          null,
          h("th", { scope: "row" }, h("code", null, d.id)),
          h("td", null, d.status),
          h("td", { title: d.rolloutStateReason ?? "" }, d.rolloutState ? badge(d.rolloutState) : "—"),
          h("td", null, familyRevision(d.taskDefinition)),
          h("td", { class: "num" }, d.desiredCount ?? 0),
          h("td", { class: "num" }, d.runningCount ?? 0),
          h("td", { class: "num" }, d.pendingCount ?? 0),
          h("td", { class: "num" }, d.failedTasks ?? 0),
          h("td", null, timeEl(d.updatedAt)),
        ),
      ),
    ),
    h("h3", null, "Events"),
    (s.events ?? []).length === 0
      ? h("p", { class: "muted" }, "No events yet.")
      : h("ul", { class: "events" }, (s.events ?? []).slice(0, 10).map((ev) => h("li", null, timeEl(ev.createdAt), " ", ev.message))),
  );
}
