import type { DescribeTasksResponse, Task } from "../../generated/shapes.ts";

/**
 * Whole DescribeTasks answers (the raw-JSON path, without TAGS) by request, for clients that poll
 * the same task list until a status changes (SDK/CLI waiters, Step Functions `.sync`, Airflow).
 *
 * An answer is a pure function of the cluster (its ARN, which also fixes the name task ids resolve
 * against), the requested references in order, and the stored snapshot of every task they resolve
 * to. The store replaces a task's snapshot object on every save (every new `version`) and drops it
 * on purge/delete, so an entry records, per resolved ARN, the snapshot object it saw (or undefined)
 * and a hit is served only if every one of them is still the current one: an answer can never be
 * stale, whether a task changed, vanished, appeared, or lives in another cluster (a failure).
 */
export interface DescribeTasksMemoOptions {
  /** Entries kept (least recently used go first). */
  maxEntries?: number;
  /** Sum of the cached bodies' sizes kept (least recently used go first). */
  maxBytes?: number;
}

/** What a miss computed, to be remembered. */
export interface DescribeTasksMemoEntry {
  clusterArn: string;
  /** The de-duplicated ARNs the references resolved to, in request order. */
  arns: readonly string[];
  /** `lookup(arns[i])` when the answer was computed. */
  snapshots: ReadonlyArray<Task | undefined>;
  /** The frozen typed answer with its wire JSON attached (see raw-json.ts). */
  response: DescribeTasksResponse;
  /** Size of the attached body. */
  bytes: number;
}

const DEFAULT_MAX_ENTRIES = 512;
/** Bodies are ~1.6 KB per described task, up to 100 tasks a request; this keeps the worst case small. */
const DEFAULT_MAX_BYTES = 8 * 2 ** 20;
/** Entries sharing a first reference (one client paging through lists that start alike) are scanned. */
const MAX_PER_ANCHOR = 32;

interface Stored extends DescribeTasksMemoEntry {
  readonly cluster: string | undefined;
  readonly refs: readonly string[];
  readonly anchor: string;
}

export class DescribeTasksMemo {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  /**
   * Entries by their first reference, then matched on the whole request. Hashing one reference and
   * comparing the rest costs a fraction of building and hashing a key of the whole request.
   */
  readonly #byAnchor = new Map<string, Stored[]>();
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #recency = new Set<Stored>();
  #bytes = 0;

  constructor(options: DescribeTasksMemoOptions = {}) {
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  get size(): number {
    return this.#recency.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The answer remembered for (cluster, refs), if every task it depends on is still the snapshot it
   * was built from; a stale entry is dropped.
   */
  get(
    cluster: string | undefined,
    refs: readonly string[],
    clusterArn: string,
    lookup: (arn: string) => Task | undefined,
  ): DescribeTasksResponse | undefined {
    const entry = this.#find(cluster, refs);
    if (entry === undefined) return undefined;
    const { arns, snapshots } = entry;
    let fresh = entry.clusterArn === clusterArn;
    for (let i = 0; fresh && i < arns.length; i++) fresh = lookup(arns[i]!) === snapshots[i];
    if (!fresh) {
      this.#remove(entry);
      return undefined;
    }
    this.#recency.delete(entry);
    this.#recency.add(entry);
    return entry.response;
  }

  /** Remembers the answer to (cluster, refs), replacing any previous one. */
  set(cluster: string | undefined, refs: readonly string[], entry: DescribeTasksMemoEntry): void {
    const previous = this.#find(cluster, refs);
    if (previous !== undefined) this.#remove(previous);
    if (entry.bytes > this.#maxBytes) return;
    const anchor = refs[0] ?? "";
    const stored: Stored = { ...entry, cluster, refs: [...refs], anchor };
    let bucket = this.#byAnchor.get(anchor);
    if (bucket === undefined) this.#byAnchor.set(anchor, (bucket = []));
    else if (bucket.length >= MAX_PER_ANCHOR) this.#remove(bucket[0]!);
    bucket.push(stored);
    this.#recency.add(stored);
    this.#bytes += stored.bytes;
    for (const oldest of this.#recency) {
      if (this.#recency.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest);
    }
  }

  #find(cluster: string | undefined, refs: readonly string[]): Stored | undefined {
    const bucket = this.#byAnchor.get(refs[0] ?? "");
    if (bucket === undefined) return undefined;
    for (const entry of bucket) {
      if (entry.cluster === cluster && sameRefs(entry.refs, refs)) return entry;
    }
    return undefined;
  }

  #remove(entry: Stored): void {
    const bucket = this.#byAnchor.get(entry.anchor);
    const i = bucket?.indexOf(entry) ?? -1;
    if (bucket === undefined || i < 0) return;
    if (bucket.length === 1) this.#byAnchor.delete(entry.anchor);
    else bucket.splice(i, 1);
    this.#recency.delete(entry);
    this.#bytes -= entry.bytes;
  }
}

function sameRefs(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
