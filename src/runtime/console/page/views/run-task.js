// Runs a task definition revision with RunTask: cluster, count, overrides as JSON, and any other RunTask
// parameter as JSON. What ECS refuses is shown as ECS words it.
import { badge, h, lastPart, mount } from "../dom.js";
import { ecs, pickCluster } from "../ecs.js";
import { clusterSelect } from "./pickers.js";

export async function runTaskForm(td, ctx) {
  const result = h("div", { class: "run-result", "aria-live": "polite" });
  const overridesError = h("p", { class: "field-error", id: "overrides-error" });
  const extraError = h("p", { class: "field-error", id: "extra-error" });
  const example = { containerOverrides: [{ name: td.containerDefinitions?.[0]?.name ?? "app", environment: [{ name: "GREETING", value: "hello" }] }] };

  const parse = (textarea, error, what) => {
    error.textContent = "";
    textarea.removeAttribute("aria-invalid");
    const text = textarea.value.trim();
    if (text === "") return {};
    try {
      const value = JSON.parse(text);
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("expected a JSON object");
      return value;
    } catch (err) {
      textarea.setAttribute("aria-invalid", "true");
      error.textContent = `${what} is not valid: ${err.message}`;
      textarea.focus();
      return undefined;
    }
  };

  const form = h(
    "form",
    {
      class: "run-task",
      "aria-labelledby": "run-title",
      onsubmit: async (e) => {
        e.preventDefault();
        const f = e.currentTarget;
        const overrides = parse(f.elements.overrides, overridesError, "Overrides");
        if (overrides === undefined) return;
        const extra = parse(f.elements.extra, extraError, "The other parameters");
        if (extra === undefined) return;
        const cluster = f.elements.cluster.value;
        const input = { ...extra, cluster, taskDefinition: td.taskDefinitionArn, count: Number(f.elements.count.value) };
        if (Object.keys(overrides).length > 0) input.overrides = overrides;
        const button = f.querySelector("button[type=submit]");
        button.disabled = true;
        mount(result, h("p", { class: "muted" }, "Calling RunTask…"));
        try {
          const answer = await ecs("RunTask", input);
          showResult(answer, cluster);
        } catch (err) {
          mount(result, h("p", { class: "error" }, `${err.type ?? "Error"}: ${err.message}`));
        } finally {
          button.disabled = false;
        }
      },
    },
    h("h2", { id: "run-title" }, "Run task"),
    h(
      "div",
      { class: "filters" },
      await clusterSelect(pickCluster(ctx.query)),
      h("span", { class: "field" }, h("label", { for: "run-count" }, "Count"), h("input", { id: "run-count", name: "count", type: "number", min: "1", max: "10", value: "1", required: true })),
    ),
    h("label", { for: "run-overrides" }, "Overrides (JSON, optional)"),
    h("textarea", {
      id: "run-overrides",
      name: "overrides",
      rows: "4",
      spellcheck: "false",
      placeholder: JSON.stringify(example),
      "aria-describedby": "overrides-error",
    }),
    overridesError,
    h("label", { for: "run-extra" }, "Other RunTask parameters (JSON, optional, e.g. networkConfiguration, startedBy, tags)"),
    h("textarea", { id: "run-extra", name: "extra", rows: "2", spellcheck: "false", placeholder: '{"startedBy": "console"}', "aria-describedby": "extra-error" }),
    extraError,
    h("p", null, h("button", { type: "submit", class: "primary" }, "Run task")),
    result,
  );

  function showResult(answer, cluster) {
    const tasks = answer.tasks ?? [];
    const badges = new Map();
    mount(
      result,
      tasks.length > 0 ? h("p", null, `Started ${tasks.length} task${tasks.length === 1 ? "" : "s"}:`) : null,
      h(
        "ul",
        { class: "links" },
        tasks.map((t) => {
          const id = lastPart(t.taskArn);
          const status = h("span", null, badge(t.lastStatus));
          badges.set(t.taskArn, status);
          return h("li", null, h("a", { href: `#/tasks/${encodeURIComponent(cluster)}/${id}`, class: "started-task" }, id), " ", status);
        }),
      ),
      (answer.failures ?? []).map((f) => h("p", { class: "error" }, `Failure: ${f.reason}${f.detail ? ` (${f.detail})` : ""} ${f.arn ?? ""}`)),
    );
    ctx.onTask((t) => badges.get(t.taskArn)?.replaceChildren(badge(t.lastStatus)));
  }

  return form;
}
