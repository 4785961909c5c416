// One Server-Sent Events stream of the engine's task changes; views subscribe while they are shown. No
// polling: when the stream drops, EventSource reconnects on its own and views re-read once.
import { arnRegion } from "./dom.js";
import { currentRegion } from "./ecs.js";

const taskListeners = new Set();
const reconnectListeners = new Set();
let source;
let connectedBefore = false;

/** Starts the stream; `onState` gets "live", "reconnecting" or "off". */
export function startLive(onState) {
  source = new EventSource("api/task-changes");
  source.addEventListener("hello", (e) => {
    const { live } = JSON.parse(e.data);
    onState(live ? "live" : "off");
    if (connectedBefore) for (const fn of reconnectListeners) fn();
    connectedBefore = true;
  });
  source.addEventListener("task", (e) => {
    const task = JSON.parse(e.data);
    // One stream carries every region; a view shows the one picked in the header.
    if (arnRegion(task.taskArn) !== currentRegion()) return;
    for (const fn of taskListeners) fn(task);
  });
  source.addEventListener("error", () => onState("reconnecting"));
}

/** Calls fn with every new task snapshot (wire JSON, as DescribeTasks answers); returns the unsubscribe. */
export function onTask(fn) {
  taskListeners.add(fn);
  return () => taskListeners.delete(fn);
}

/** Calls fn after the stream reconnected (changes may have been missed meanwhile). */
export function onReconnect(fn) {
  reconnectListeners.add(fn);
  return () => reconnectListeners.delete(fn);
}
