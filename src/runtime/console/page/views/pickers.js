// Labelled pickers several views share.
import { h } from "../dom.js";
import { clusterNames } from "../ecs.js";

let uid = 0;

/** A labelled <select>; `options` are values or [value, label] pairs. */
export function labelledSelect(label, name, options, selected, onchange) {
  const id = `f-${name}-${++uid}`;
  return h(
    "span",
    { class: "field" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, name, onchange },
      options.map((o) => {
        const [value, text] = Array.isArray(o) ? o : [o, o];
        return h("option", { value, selected: value === selected }, text);
      }),
    ),
  );
}

/** The cluster picker: every cluster of the region, `default` first. */
export async function clusterSelect(selected, onchange) {
  const names = await clusterNames();
  if (!names.includes(selected)) names.push(selected);
  return labelledSelect("Cluster", "cluster", names, selected, onchange);
}

/** An empty state for an operation this server cannot answer. */
export function unavailable(what, operation) {
  return h(
    "div",
    { class: "empty", role: "note" },
    h("p", null, h("strong", null, `${what} are not available from this server.`)),
    h(
      "p",
      null,
      h("code", null, operation),
      " is neither emulated by local-ecs-api nor forwarded (set ",
      h("code", null, "ECS_ENDPOINT_URL"),
      " to an ECS endpoint such as moto to forward it).",
    ),
  );
}
