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
  let lastTime;
  let failures = 0;

  const close = () => {
    source?.close();
    source = undefined;
  };
  let disposed = false;
  ctx.onCleanup(() => {
    disposed = true;
    close();
  });

  function restart() {
    close();
    waitingFor = undefined;
    lastTime = undefined;
    failures = 0;
    mount(output);
    const name = select.value;
    if (!started(latest, name)) {
      waitingFor = name;
      state.textContent = `Waiting for ${name} to start…`;
      return;
    }
    state.textContent = follow.checked ? `Following ${name}…` : `Output of ${name}:`;
    open(name, { tail: "1000" });
  }

  function open(name, from) {
    const q = new URLSearchParams({ task: latest.taskArn, container: name, follow: String(follow.checked), ...from });
    const es = new EventSource(`api/logs?${q}`);
    source = es;
    es.addEventListener("line", (e) => {
      const line = JSON.parse(e.data);
      // After a reconnection Docker repeats the lines of the instant it resumes from.
      if (lastTime !== undefined && line.time <= lastTime) return;
      lastTime = line.time;
      failures = 0;
      append(line);
    });
    es.addEventListener("end", (e) => {
      // Closed before EventSource would reconnect on its own.
      close();
      state.textContent = JSON.parse(e.data).reason;
    });
    es.addEventListener("error", () => {
      if (source !== es) return;
      close();
      // The stream broke (the server restarted, or the browser dropped it): carry on after the last line.
      if (++failures > 5) {
        state.textContent = "The log stream keeps failing. Tick Follow again to retry.";
        follow.checked = false;
        return;
      }
      setTimeout(() => {
        if (!disposed && source === undefined && select.value === name && follow.checked) open(name, lastTime === undefined ? { tail: "1000" } : { since: lastTime });
      }, 1000);
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
