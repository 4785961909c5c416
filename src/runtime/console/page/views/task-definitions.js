// Task definition families, their revisions, and one revision as JSON (with a copy button) plus the form
// that runs it.
import { badge, h, lastPart, mount, timeEl } from "../dom.js";
import { ecs, listAll } from "../ecs.js";
import { runTaskForm } from "./run-task.js";

export async function renderFamilies(ctx) {
  const families = await listAll("ListTaskDefinitionFamilies", { status: "ACTIVE" }, "families");
  if (!ctx.current) return;
  mount(
    ctx.main,
    h("h1", { tabindex: "-1" }, "Task definitions"),
    families.length === 0
      ? h("p", { class: "empty" }, "No task definitions registered yet (", h("code", null, "aws ecs register-task-definition"), ").")
      : h(
          "ul",
          { class: "links", "aria-label": "Task definition families" },
          families.sort().map((f) => h("li", null, h("a", { href: `#/task-definitions/${encodeURIComponent(f)}` }, f))),
        ),
  );
}

export async function renderRevisions(ctx) {
  const [family] = ctx.params;
  // familyPrefix matches by prefix: keep this family's own revisions only.
  const arns = (await listAll("ListTaskDefinitions", { familyPrefix: family, sort: "DESC", status: "ACTIVE" }, "taskDefinitionArns")).filter(
    (arn) => lastPart(arn).replace(/:\d+$/, "") === family,
  );
  if (!ctx.current) return;
  mount(
    ctx.main,
    h("p", { class: "crumbs" }, h("a", { href: "#/task-definitions" }, "Task definitions")),
    h("h1", { tabindex: "-1" }, family),
    arns.length === 0
      ? h("p", { class: "empty" }, "No active revisions.")
      : h(
          "ul",
          { class: "links", "aria-label": `Revisions of ${family}` },
          arns.map((arn) => {
            const revision = arn.slice(arn.lastIndexOf(":") + 1);
            return h("li", null, h("a", { href: `#/task-definitions/${encodeURIComponent(family)}/${revision}` }, `${family}:${revision}`));
          }),
        ),
  );
}

export async function renderRevision(ctx) {
  const [family, revision] = ctx.params;
  const answer = await ecs("DescribeTaskDefinition", { taskDefinition: `${family}:${revision}`, include: ["TAGS"] });
  if (!ctx.current) return;
  const td = answer.taskDefinition;
  const json = JSON.stringify(td, null, 2);
  const copied = h("span", { class: "muted", role: "status" });
  const pre = h("pre", { class: "json", id: "task-definition-json", tabindex: "0", "aria-label": "Task definition JSON" }, json);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(json);
      copied.textContent = "Copied to the clipboard.";
    } catch {
      // Without clipboard permission: select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      copied.textContent = document.execCommand?.("copy") ? "Copied to the clipboard." : "Selected: press Ctrl+C to copy.";
    }
  };
  mount(
    ctx.main,
    h("p", { class: "crumbs" }, h("a", { href: "#/task-definitions" }, "Task definitions"), " / ", h("a", { href: `#/task-definitions/${encodeURIComponent(family)}` }, family)),
    h("h1", { tabindex: "-1" }, `${family}:${revision}`),
    h(
      "dl",
      { class: "facts" },
      [
        ["Status", badge(td.status)],
        ["Network mode", td.networkMode ?? "bridge"],
        ["CPU / memory", `${td.cpu ?? "—"} / ${td.memory ?? "—"}`],
        ["Containers", (td.containerDefinitions ?? []).map((c) => c.name).join(", ")],
        ["Registered", timeEl(td.registeredAt)],
      ].map(([k, v]) => [h("dt", null, k), h("dd", null, v)]),
    ),
    await runTaskForm(td, ctx),
    h("h2", null, "JSON"),
    h("p", null, h("button", { type: "button", onclick: copy }, "Copy JSON"), " ", copied),
    pre,
  );
}
