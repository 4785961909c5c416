// Live logs of one container of a task: a Server-Sent Events stream of its output (the last lines, then
// followed until the container stops). A container that has not started yet is picked up when the change
// stream says it has, not by polling.
import { h, mount } from "../dom.js";

const MAX_LINES = 5000;
let uid = 0;

export function logsPanel(task, ctx) {
  const names = (task.containers ?? []).map((c) => c.name);
  const n = ++uid;
  const output = h("pre", { class: "logs", role: "log", "aria-live": "polite", "aria-label": "Container output", tabindex: "0", id: `logs-${n}` });
  const state = h("p", { class: "muted", role: "status", id: `logs-state-${n}` });
  const select = h(
    "select",
    { id: `logs-container-${n}`, name: "container", onchange: () => restart() },
    names.map((name) => h("option", { value: name }, name)),
  );
  const follow = h("input", { type: "checkbox", id: `logs-follow-${n}`, name: "follow", checked: true, onchange: () => restart() });
  let source;
  let latest = task;
  let waitingFor;

  const close = () => {
    source?.close();
    source = undefined;
  };
  ctx.onCleanup(close);

  function restart() {
    close();
    waitingFor = undefined;
    mount(output);
    const name = select.value;
    if (!started(latest, name)) {
      waitingFor = name;
      state.textContent = `Waiting for ${name} to start…`;
      return;
    }
    const q = new URLSearchParams({ task: latest.taskArn, container: name, tail: "1000", follow: String(follow.checked) });
    state.textContent = follow.checked ? `Following ${name}…` : `Output of ${name}:`;
    source = new EventSource(`api/logs?${q}`);
    source.addEventListener("line", (e) => append(JSON.parse(e.data)));
    source.addEventListener("end", (e) => {
      // Closed before EventSource would reconnect on its own.
      close();
      state.textContent = JSON.parse(e.data).reason;
    });
    source.addEventListener("error", () => {
      if (source === undefined) return;
      close();
      state.textContent = "The log stream was interrupted. Tick Follow again to resume.";
      follow.checked = false;
    });
  }

  function append(line) {
    const atBottom = output.scrollHeight - output.scrollTop - output.clientHeight < 40;
    output.append(h("span", { class: `line ${line.stream}` }, h("span", { class: "ts" }, clock(line.time)), " ", line.text, "\n"));
    while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
    if (atBottom) output.scrollTop = output.scrollHeight;
  }

  const element = h(
    "section",
    { "aria-labelledby": `logs-title-${n}` },
    h("h2", { id: `logs-title-${n}` }, "Logs"),
    h(
      "div",
      { class: "filters" },
      h("span", { class: "field" }, h("label", { for: select.id }, "Container"), select),
      h("span", { class: "field" }, follow, h("label", { for: follow.id }, "Follow")),
    ),
    state,
    output,
  );
  queueMicrotask(restart);

  return {
    element,
    /** A new snapshot of the task: starts the stream of a container that was waiting to start. */
    update(t) {
      latest = t;
      if (waitingFor === undefined) return;
      if (started(t, waitingFor)) restart();
    },
  };
}

/** Docker has output for the container once it has been started (RUNNING, or already STOPPED). */
function started(task, name) {
  const c = task.containers?.find((x) => x.name === name);
  return c?.runtimeId !== undefined && c.lastStatus !== "PENDING";
}

/** Local "HH:MM:SS.mmm" of a log line's time. */
function clock(iso) {
  const d = new Date(iso);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
