// Tasks of a cluster, filtered by family and desired status (ListTasks + DescribeTasks); rows follow the
// engine's change stream without reloading.
import { badge, clusterName, familyRevision, h, lastPart, mount, table, timeEl } from "../dom.js";
import { describeTasks, ecs, listAll, pickCluster } from "../ecs.js";
import { clusterSelect, labelledSelect } from "./pickers.js";

export async function render(ctx) {
  const cluster = pickCluster(ctx.query);
  const family = ctx.query.get("family") || "";
  const status = ctx.query.get("status") === "STOPPED" ? "STOPPED" : "RUNNING";
  const filterChanged = () => {
    const form = ctx.main.querySelector("form.filters");
    const q = new URLSearchParams();
    q.set("cluster", form.elements.cluster.value);
    if (form.elements.family.value !== "") q.set("family", form.elements.family.value);
    q.set("status", form.elements.status.value);
    ctx.replace(`#/tasks?${q}`);
  };

  const families = await listAll("ListTaskDefinitionFamilies", { status: "ALL" }, "families");
  const filters = h(
    "form",
    { class: "filters", "aria-label": "Filter tasks", onsubmit: (e) => e.preventDefault() },
    await clusterSelect(cluster, filterChanged),
    labelledSelect("Family", "family", [["", "(any)"], ...families], family, filterChanged),
    labelledSelect("Desired status", "status", ["RUNNING", "STOPPED"], status, filterChanged),
  );
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading tasks…"));
  if (!ctx.current) return;
  mount(ctx.main, h("h1", { tabindex: "-1" }, "Tasks"), filters, body);

  const arns = await listAll("ListTasks", { cluster, desiredStatus: status, ...(family ? { family } : {}) }, "taskArns", 1000);
  const { results } = await describeTasks(cluster, arns);
  if (!ctx.current) return;
  results.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0));
  const rows = new Map();
  const tbody = h("tbody");
  const empty = h("p", { class: "empty", hidden: results.length > 0 }, `No ${status === "RUNNING" ? "running" : "stopped"} tasks match.`);
  for (const t of results) {
    const row = taskRow(t, cluster, ctx);
    rows.set(t.taskArn, row);
    tbody.append(row);
  }
  body.removeAttribute("aria-busy");
  const t = table("Tasks (updated live)", ["Task", "Task definition", "Last status", "Desired", "Health", "Created", "Stopped", "Stop code", "Exit codes", ""], [], { class: "tasks" });
  t.querySelector("tbody").replaceWith(tbody);
  mount(body, empty, t);

  // Changes may have been missed while the stream was down: read again.
  ctx.onReconnect(() => ctx.replace(location.hash));
  ctx.onTask((task) => {
    if (clusterName(task.clusterArn) !== cluster) return;
    if (family !== "" && familyRevision(task.taskDefinitionArn).split(":")[0] !== family) return;
    const existing = rows.get(task.taskArn);
    if (existing === undefined && task.desiredStatus !== status) return;
    const row = taskRow(task, cluster, ctx);
    if (existing === undefined) tbody.prepend(row);
    else existing.replaceWith(row);
    rows.set(task.taskArn, row);
    empty.hidden = true;
  });
}

function taskRow(t, cluster, ctx) {
  const id = lastPart(t.taskArn);
  const exitCodes = (t.containers ?? []).filter((c) => c.exitCode !== undefined).map((c) => `${c.name}: ${c.exitCode}`);
  return h(
    "tr",
    { "data-task": id, "data-last-status": t.lastStatus },
    h("th", { scope: "row" }, h("a", { href: `#/tasks/${encodeURIComponent(cluster)}/${id}` }, id.slice(0, 12))),
    h("td", null, familyRevision(t.taskDefinitionArn)),
    h("td", { class: "last-status" }, badge(t.lastStatus)),
    h("td", null, t.desiredStatus),
    h("td", null, t.healthStatus ?? "UNKNOWN"),
    h("td", null, timeEl(t.createdAt)),
    h("td", null, timeEl(t.stoppedAt)),
    h("td", { title: t.stoppedReason ?? "" }, t.stopCode ?? ""),
    h("td", null, exitCodes.join(", ")),
    h("td", null, t.desiredStatus === "RUNNING" ? stopButton(t, cluster, ctx) : ""),
  );
}

/** StopTask, after a confirmation; the row then follows the task to STOPPED on its own. */
export function stopButton(t, cluster, ctx) {
  const id = lastPart(t.taskArn);
  return h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": `Stop task ${id}`,
      onclick: async (e) => {
        const button = e.currentTarget;
        if (!confirm(`Stop task ${id}?`)) return;
        button.disabled = true;
        try {
          await ecs("StopTask", { cluster, task: t.taskArn });
        } catch (err) {
          ctx.showError(err);
          button.disabled = false;
        }
      },
    },
    "Stop",
  );
}
