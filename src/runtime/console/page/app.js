// The console's shell: hash routes → views, the header (navigation, region, live state) and alerts.
import { h, mount } from "./dom.js";
import { currentRegion, EcsApiError, setRegion } from "./ecs.js";
import { onReconnect, onTask, startLive } from "./live.js";
import * as clusters from "./views/clusters.js";
import * as containerInstances from "./views/container-instances.js";
import * as services from "./views/services.js";
import * as taskDefinitions from "./views/task-definitions.js";
import * as taskDetail from "./views/task-detail.js";
import * as tasks from "./views/tasks.js";

const ROUTES = [
  [/^\/clusters$/, clusters.render],
  [/^\/services$/, services.render],
  [/^\/tasks$/, tasks.render],
  [/^\/tasks\/([^/]+)\/([^/]+)$/, taskDetail.render],
  [/^\/task-definitions$/, taskDefinitions.renderFamilies],
  [/^\/task-definitions\/([^/]+)$/, taskDefinitions.renderRevisions],
  [/^\/task-definitions\/([^/]+)\/(\d+)$/, taskDefinitions.renderRevision],
  [/^\/container-instances$/, containerInstances.render],
];

const main = document.getElementById("view");
const alerts = document.getElementById("alerts");
let active;

/** Shows an error the user should see (API errors with their exception name). */
export function showError(err) {
  const text = err instanceof EcsApiError ? `${err.type}: ${err.message}` : String(err?.message ?? err);
  mount(alerts, h("p", null, text, " ", h("button", { type: "button", onclick: () => mount(alerts) }, "Dismiss")));
}

function route() {
  const hash = decodeURIComponent(location.hash.slice(1)) || "/clusters";
  const [path, search = ""] = hash.split("?");
  active?.dispose();
  mount(alerts);
  const found = ROUTES.map(([re, view]) => [re.exec(path), view]).find(([m]) => m !== null);
  for (const a of document.querySelectorAll("header nav a")) {
    const section = a.getAttribute("href").slice(1);
    if (path === section || path.startsWith(`${section}/`)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (found === undefined) {
    mount(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", null, "No such page. ", h("a", { href: "#/clusters" }, "Go to the clusters.")));
    return;
  }
  const [match, view] = found;
  active = viewContext(match.slice(1).map(decodeURIComponent), new URLSearchParams(search));
  const ctx = active;
  Promise.resolve(view(ctx))
    .then(() => {
      if (ctx.current && ctx.focusHeading) main.querySelector("h1")?.focus({ preventScroll: true });
    })
    .catch((err) => {
      if (!ctx.current) return;
      showError(err);
      if (main.querySelector("h1") === null) mount(main, h("h1", { tabindex: "-1" }, "Error"), h("p", null, String(err.message ?? err)));
    });
}

function viewContext(params, query) {
  const cleanups = [];
  let current = true;
  const ctx = {
    main,
    params,
    query,
    focusHeading: active !== undefined,
    get current() {
      return current;
    },
    onCleanup: (fn) => cleanups.push(fn),
    onTask: (fn) => cleanups.push(onTask(fn)),
    onReconnect: (fn) => cleanups.push(onReconnect(fn)),
    /** Navigates, replacing the history entry (filters). */
    replace: (hash) => {
      history.replaceState(null, "", hash);
      route();
    },
    showError,
    dispose() {
      current = false;
      for (const fn of cleanups.splice(0)) fn();
    },
  };
  return ctx;
}

function startHeader() {
  // The hash is the route: the skip link moves focus instead of navigating.
  document.querySelector("a.skip").addEventListener("click", (e) => {
    e.preventDefault();
    main.focus();
  });
  const input = document.getElementById("region");
  input.value = currentRegion();
  const apply = () => {
    const value = input.value.trim();
    if (value === "" || value === currentRegion()) return;
    setRegion(value);
    route();
  };
  document.getElementById("region-form").addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });
  input.addEventListener("change", apply);
  const live = document.getElementById("live");
  startLive((state) => {
    live.textContent = { live: "● Live", reconnecting: "Reconnecting…", off: "Live updates off (no Docker engine)" }[state];
    live.className = `live ${state}`;
  });
}

sessionStorage.removeItem("local-ecs-console.retried");
startHeader();
window.addEventListener("hashchange", route);
route();
