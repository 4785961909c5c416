import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";

/**
 * A unix-socket proxy in front of the Docker socket: the server under test talks to Docker through it
 * (DOCKER_HOST=unix://<path>), so a test can cut every connection (the events stream included) and
 * refuse new ones for a while, without touching the shared dockerd.
 */
export interface SocketProxy {
  path: string;
  /** Connections currently open. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections closed at once because `refuse` was on. */
  readonly refused: number;
  /** Destroys every open connection; while `refuse` is on, new ones are closed at once. */
  cutAll(): void;
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startSocketProxy(path: string, target = "/var/run/docker.sock"): Promise<SocketProxy> {
  rmSync(path, { force: true });
  const pairs = new Set<{ a: Socket; b: Socket }>();
  let refusing = false;
  let accepted = 0;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    accepted++;
    const upstream = createConnection(target);
    const pair = { a: client, b: upstream };
    pairs.add(pair);
    const done = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", done).on("close", done);
    upstream.on("error", done).on("close", done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const cutAll = (): void => {
    for (const { a, b } of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    path,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    cutAll,
    refuse(on) {
      refusing = on;
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}
