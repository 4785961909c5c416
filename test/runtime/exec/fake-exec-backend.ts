import { PassThrough } from "node:stream";
import type { ExecBackend, ExecProcess, ExecStartOptions } from "../../../src/runtime/exec/exec-backend.ts";

/** A process that lives in memory: tests read its stdin, write its output and end it. */
export class FakeExecProcess implements ExecProcess {
  readonly stdin = new PassThrough();
  readonly output = new PassThrough();
  readonly sizes: Array<[number, number]> = [];
  readonly runtimeId: string;
  readonly options: ExecStartOptions;
  killed = false;
  #resolve!: (code: number | undefined) => void;
  readonly #exited: Promise<number | undefined>;

  constructor(runtimeId: string, options: ExecStartOptions) {
    this.runtimeId = runtimeId;
    this.options = options;
    this.#exited = new Promise((r) => (this.#resolve = r));
  }

  typed(): string {
    const chunks: Buffer[] = [];
    for (let c = this.stdin.read() as Buffer | null; c !== null; c = this.stdin.read() as Buffer | null) chunks.push(c);
    return Buffer.concat(chunks).toString();
  }

  async resize(cols: number, rows: number): Promise<void> {
    this.sizes.push([cols, rows]);
  }

  /** The command ends by itself. */
  exit(code: number): void {
    this.output.end();
    this.output.once("end", () => this.#resolve(code));
    this.output.resume();
  }

  wait(): Promise<number | undefined> {
    return this.#exited;
  }

  async kill(): Promise<void> {
    this.killed = true;
    this.#resolve(137);
  }
}

export class FakeExecBackend implements ExecBackend {
  readonly started: FakeExecProcess[] = [];
  readonly reaped: Array<[string, string]> = [];
  failWith: Error | undefined;
  #waiters: Array<(p: FakeExecProcess) => void> = [];

  async start(runtimeId: string, options: ExecStartOptions): Promise<ExecProcess> {
    if (this.failWith !== undefined) throw this.failWith;
    const p = new FakeExecProcess(runtimeId, options);
    this.started.push(p);
    for (const w of this.#waiters.splice(0)) w(p);
    return p;
  }

  /** While set, reap answers as for a runtime that does not answer. */
  unreachable = false;

  async reap(runtimeId: string, { tag }: { tag: string }): Promise<boolean> {
    if (this.unreachable) return false;
    this.reaped.push([runtimeId, tag]);
    return true;
  }

  /** The next process to start (or the last one, if one already has and none is awaited). */
  next(): Promise<FakeExecProcess> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
