// One task: status, stop code and reason, a timeline of its timestamps, its containers (exit codes,
// health) and their live logs. Follows the change stream without reloading.
import { badge, duration, familyRevision, h, mount, table, timeEl } from "../dom.js";
import { ecs, pickCluster } from "../ecs.js";
import { logsPanel } from "./logs.js";
import { stopButton } from "./tasks.js";

const TIMELINE = [
  ["createdAt", "Created"],
  ["pullStartedAt", "Image pull started"],
  ["pullStoppedAt", "Image pull finished"],
  ["startedAt", "Started (RUNNING)"],
  ["stoppingAt", "Stopping"],
  ["executionStoppedAt", "Execution stopped"],
  ["stoppedAt", "Stopped"],
];

export async function render(ctx) {
  const [cluster, taskId] = ctx.params;
  pickCluster(new URLSearchParams({ cluster }));
  const { tasks, failures } = await ecs("DescribeTasks", { cluster, tasks: [taskId] });
  if (!ctx.current) return;
  const task = tasks?.[0];
  if (task === undefined) {
    const reason = failures?.[0]?.reason ?? "MISSING";
    mount(
      ctx.main,
      h("h1", { tabindex: "-1" }, `Task ${taskId}`),
      h("p", { class: "empty" }, `DescribeTasks found no such task in cluster ${cluster} (${reason}). Stopped tasks are kept for a limited time.`),
      h("p", null, h("a", { href: `#/tasks?cluster=${encodeURIComponent(cluster)}` }, "Back to the tasks")),
    );
    return;
  }

  const dynamic = h("div");
  const logs = logsPanel(task, ctx);
  mount(
    ctx.main,
    h("p", { class: "crumbs" }, h("a", { href: `#/tasks?cluster=${encodeURIComponent(cluster)}` }, `Tasks of ${cluster}`)),
    h("h1", { tabindex: "-1" }, "Task ", h("code", null, taskId)),
    dynamic,
    logs.element,
  );
  const show = (t) => mount(dynamic, ...taskParts(t, cluster, ctx));
  show(task);
  // Changes may have been missed while the stream was down: read again.
  ctx.onReconnect(() => ctx.replace(location.hash));
  ctx.onTask((t) => {
    if (t.taskArn !== task.taskArn) return;
    show(t);
    logs.update(t);
  });
}

function taskParts(t, cluster, ctx) {
  const [family, revision] = familyRevision(t.taskDefinitionArn).split(":");
  const facts = [
    ["Last status", h("span", { id: "task-last-status", "data-status": t.lastStatus }, badge(t.lastStatus))],
    ["Desired status", t.desiredStatus],
    ["Health", t.healthStatus ?? "UNKNOWN"],
    ["Task definition", h("a", { href: `#/task-definitions/${encodeURIComponent(family)}/${revision}` }, `${family}:${revision}`)],
    ["Launch type", t.launchType ?? "—"],
    ["Group", t.group ?? "—"],
    ["Started by", t.startedBy ?? "—"],
    ["Stop code", h("span", { id: "task-stop-code" }, t.stopCode ?? "—")],
    ["Stopped reason", t.stoppedReason ?? "—"],
  ];
  return [
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])),
    t.desiredStatus === "RUNNING" ? h("p", null, stopButton(t, cluster, ctx)) : null,
    h("h2", null, "Timeline"),
    timeline(t),
    h("h2", null, "Containers"),
    table(
      "Containers of the task",
      ["Name", "Image", "Last status", "Exit code", "Reason", "Health", "Docker id"],
      (t.containers ?? []).map((c) =>
        h(
          "tr",
          { "data-container": c.name },
          h("th", { scope: "row" }, c.name),
          h("td", null, h("code", null, c.image ?? "")),
          h("td", null, badge(c.lastStatus)),
          h("td", { class: "num exit-code" }, c.exitCode ?? "—"),
          h("td", null, c.reason ?? ""),
          h("td", null, c.healthStatus ?? "UNKNOWN"),
          h("td", null, h("code", null, (c.runtimeId ?? "").slice(0, 12))),
        ),
      ),
    ),
    h("details", null, h("summary", null, "Task JSON (as DescribeTasks answers)"), h("pre", { class: "json" }, JSON.stringify(t, null, 2))),
  ];
}

function timeline(t) {
  const start = t.createdAt;
  const steps = TIMELINE.filter(([key]) => t[key] !== undefined).sort(([a], [b]) => t[a] - t[b]);
  const items = steps.map(([key, label]) =>
    h(
      "li",
      null,
      h("span", { class: "when" }, timeEl(t[key])),
      " ",
      h("span", { class: "what" }, label),
      start !== undefined && key !== "createdAt" ? h("span", { class: "muted" }, ` +${duration((t[key] - start) * 1000)}`) : null,
    ),
  );
  return h("ol", { class: "timeline", "aria-label": "Task timeline" }, items);
}
