import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";

/**
 * A unix-socket proxy in front of the Docker socket: the server under test talks to Docker through it
 * (DOCKER_HOST=unix://<path>), so a test can cut every connection (the events stream included) and
 * refuse new ones for a while, without touching the shared dockerd. `startTcpProxy` does the same in front
 * of a loopback TCP port (an AWS emulator that must look down for a while).
 */
export interface SocketProxy {
  path: string;
  /** Connections currently open. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections closed at once because `refuse` was on. */
  readonly refused: number;
  /** Connections accepted while `hold` was on, not yet passed on. */
  readonly held: number;
  /** Destroys every open connection; while `refuse` is on, new ones are closed at once. */
  cutAll(): void;
  refuse(on: boolean): void;
  /**
   * While on, new connections are accepted but not passed on (a daemon slow to answer): what the client
   * sends waits in its socket; turned off, each is passed on as if it had just arrived.
   */
  hold(on: boolean): void;
  close(): Promise<void>;
}

export async function startSocketProxy(path: string, target = "/var/run/docker.sock"): Promise<SocketProxy> {
  rmSync(path, { force: true });
  const proxy = await proxyServer(
    () => createConnection(target),
    (server) => new Promise<void>((resolve) => server.listen(path, resolve)),
    () => rmSync(path, { force: true }),
  );
  return Object.defineProperty(proxy, "path", { value: path, enumerable: true }) as SocketProxy;
}

/** The same in front of a TCP port on loopback (e.g. moto), listening on a free loopback port. */
export async function startTcpProxy(targetPort: number): Promise<Omit<SocketProxy, "path"> & { port: number }> {
  let port = 0;
  const proxy = await proxyServer(
    () => createConnection(targetPort, "127.0.0.1"),
    (server) =>
      new Promise<void>((resolve) =>
        server.listen(0, "127.0.0.1", () => {
          port = (server.address() as AddressInfo).port;
          resolve();
        }),
      ),
  );
  return Object.defineProperty(proxy, "port", { value: port, enumerable: true }) as Omit<SocketProxy, "path"> & { port: number };
}

async function proxyServer(connect: () => Socket, listen: (server: Server) => Promise<void>, afterClose = (): void => {}): Promise<Omit<SocketProxy, "path">> {
  const pairs = new Set<{ a: Socket; b: Socket }>();
  let refusing = false;
  let holding = false;
  const held = new Set<Socket>();
  let accepted = 0;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    if (holding) {
      held.add(client);
      client.on("error", () => held.delete(client)).on("close", () => held.delete(client));
      return;
    }
    passOn(client);
  });
  const passOn = (client: Socket): void => {
    accepted++;
    const upstream = connect();
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
  };
  await listen(server);
  const cutAll = (): void => {
    for (const client of held) client.destroy();
    held.clear();
    for (const { a, b } of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    get held() {
      return held.size;
    },
    cutAll,
    refuse(on) {
      refusing = on;
    },
    hold(on) {
      holding = on;
      if (on) return;
      const waiting = [...held];
      held.clear();
      for (const client of waiting) if (!client.destroyed) passOn(client);
    },
    async close() {
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      afterClose();
    },
  };
}
