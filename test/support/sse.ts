/** One Server-Sent Event as the browser's EventSource would dispatch it. */
export interface SseEvent {
  event: string;
  data: any;
}

/** Reads a text/event-stream response as events (until it ends or `signal` aborts). */
export async function* sseEvents(url: string, signal: AbortSignal): AsyncGenerator<SseEvent> {
  const res = await fetch(url, { signal, headers: { accept: "text/event-stream" } });
  if (!res.ok || res.body === null) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) throw new Error(`${url} is not an event stream`);
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length > 0) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/** The events of a stream until `until` says stop (inclusive), bounded by a deadline. */
export async function collectSse(url: string, until: (e: SseEvent) => boolean, timeoutMs = 30_000): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no matching event from ${url} within ${timeoutMs} ms`)), timeoutMs);
  const out: SseEvent[] = [];
  try {
    for await (const e of sseEvents(url, abort.signal)) {
      out.push(e);
      if (until(e)) return out;
    }
    if (abort.signal.aborted) throw abort.signal.reason;
    return out;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
