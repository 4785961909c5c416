// One Server-Sent Events response. A client that does not read (its socket buffer past a bound) is cut off
// rather than buffered without end: EventSource reconnects, and the page re-reads what it shows.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface SseOptions {
  /** Bytes allowed to wait in the socket for a slow reader (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A comment line this often keeps proxies and idle timeouts from closing the stream (default 15 s). */
  heartbeatMs?: number;
  /** Reconnect delay the browser should use (default 2 s). */
  retryMs?: number;
}

export class SseStream {
  readonly #res: ServerResponse;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #abort = new AbortController();

  constructor(req: IncomingMessage, res: ServerResponse, options: SseOptions = {}) {
    this.#res = res;
    this.#maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    res.write(`retry: ${options.retryMs ?? 2000}\n\n`);
    this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), options.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
    const closed = (): void => this.close();
    req.once("close", closed);
    res.once("close", closed);
  }

  /** Aborted when the stream closes (the client went away, it was too slow, or `close`). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  send(event: string, data: unknown): void {
    this.#write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    if (this.#abort.signal.aborted) return;
    clearInterval(this.#heartbeat);
    this.#abort.abort();
    if (!this.#res.writableEnded) this.#res.end();
  }

  #write(text: string): void {
    if (this.closed) return;
    if (this.#res.writableLength > this.#maxBuffered) {
      this.close();
      return;
    }
    this.#res.write(text);
  }
}
