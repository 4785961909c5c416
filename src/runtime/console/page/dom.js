// A few DOM helpers instead of a framework: elements are built with h(), text always goes in as text nodes.

/** h("a", { href: "#", onclick: fn, class: "x" }, "text", child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value" && "value" in el) el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** An API timestamp (epoch seconds) as local "YYYY-MM-DD HH:MM:SS". */
export function fmtTime(seconds) {
  if (seconds === undefined || seconds === null) return "—";
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A <time> element for an API timestamp. */
export function timeEl(seconds) {
  if (seconds === undefined || seconds === null) return "—";
  return h("time", { datetime: new Date(seconds * 1000).toISOString() }, fmtTime(seconds));
}

/** "1.2 s", "3 min 4 s" */
export function duration(ms) {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The last part of an ARN ("…:task/cluster/abc" → "abc"). */
export function lastPart(arn) {
  return String(arn ?? "").split("/").pop();
}

/** "family:3" from a task definition ARN. */
export function familyRevision(arn) {
  return lastPart(arn);
}

/** The cluster name in a cluster ARN, or the value itself. */
export function clusterName(clusterArn) {
  const s = String(clusterArn ?? "");
  return s.includes(":cluster/") ? s.slice(s.indexOf(":cluster/") + 9) : s;
}

/** The region in an ARN. */
export function arnRegion(arn) {
  return String(arn ?? "").split(":")[3] ?? "";
}

/** A status badge (colour plus the word, never colour alone). */
export function badge(status) {
  const s = String(status ?? "UNKNOWN");
  return h("span", { class: `badge s-${s.toLowerCase()}` }, s);
}

/** A table with a caption and column headers. */
export function table(caption, headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("caption", null, caption),
    h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", null, rows),
  );
}

/** Calls fn once, `ms` after the first of a burst of calls (a burst of changes becomes one refresh). */
export function coalesce(fn, ms) {
  let timer;
  const request = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      fn();
    }, ms);
  };
  request.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return request;
}
