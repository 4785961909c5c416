import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock, Timer } from "../clock.ts";
import type { Logger } from "../logger.ts";

// The "Application Load Balancer" of an Express service, locally: an HTTP listener on the host that sends
// each request to the next healthy task in turn (round robin), and health-checks every task at the
// service's `healthCheckPath` as an ALB target group does (HTTP 200-399 is healthy). A task is checked as
// soon as it runs and then every HEALTH_INTERVAL_MS; one success makes it healthy (an ALB asks for five,
// 30 s apart: too slow locally), two failures in a row unhealthy. Tasks that stop leave the rotation at
// once. No healthy task: 503, as an ALB answers.

export interface IngressTarget {
  taskArn: string;
  /** Where the task's container port is published on the host, e.g. 127.0.0.1:32768. */
  host: string;
  port: number;
}

export type TargetHealth = "HEALTHY" | "UNHEALTHY";

const HEALTH_INTERVAL_MS = 5_000;
const HEALTH_TIMEOUT_MS = 4_000;
const UNHEALTHY_THRESHOLD = 2;

interface TargetState {
  target: IngressTarget;
  health: TargetHealth | undefined;
  failures: number;
  timer?: Timer | undefined;
  checking: boolean;
}

export interface ExpressIngressOptions {
  serviceArn: string;
  /** Address the listener binds (the API's HOST). */
  bindHost: string;
  healthCheckPath: string;
  clock: Clock;
  logger: Logger;
  /** A target's health changed (the scheduler looks at the service again). */
  onHealthChange: () => void;
}

export class ExpressIngress {
  readonly #o: ExpressIngressOptions;
  readonly #log: Logger;
  readonly #targets = new Map<string, TargetState>();
  #healthCheckPath: string;
  #server: Server | undefined;
  #next = 0;
  #closed = false;

  constructor(options: ExpressIngressOptions) {
    this.#o = options;
    this.#healthCheckPath = options.healthCheckPath;
    this.#log = options.logger.child({ component: "express-ingress", service: options.serviceArn });
  }

  /** Listens on `port` (0, or a taken one: any free port); resolves with the port in use. */
  async listen(port: number): Promise<number> {
    const server = createServer((req, res) => this.#forward(req, res));
    const bind = (p: number): Promise<number> =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(p, this.#o.bindHost, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    let bound: number;
    try {
      bound = await bind(port);
    } catch (err) {
      if (port === 0) throw err;
      bound = await bind(0);
    }
    this.#server = server;
    return bound;
  }

  set healthCheckPath(path: string) {
    this.#healthCheckPath = path;
  }

  health(taskArn: string): TargetHealth | undefined {
    return this.#targets.get(taskArn)?.health;
  }

  /** The service's live tasks: new ones are checked at once, gone ones leave the rotation. */
  setTargets(targets: readonly IngressTarget[]): void {
    const wanted = new Map(targets.map((t) => [t.taskArn, t]));
    for (const [arn, state] of this.#targets) {
      if (wanted.has(arn)) continue;
      state.timer?.cancel();
      this.#targets.delete(arn);
    }
    for (const t of targets) {
      const known = this.#targets.get(t.taskArn);
      if (known !== undefined && known.target.port === t.port && known.target.host === t.host) continue;
      known?.timer?.cancel();
      const state: TargetState = { target: t, health: undefined, failures: 0, checking: false };
      this.#targets.set(t.taskArn, state);
      void this.#check(state);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#targets.values()) s.timer?.cancel();
    this.#targets.clear();
    const server = this.#server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #check(state: TargetState): Promise<void> {
    if (this.#closed || this.#targets.get(state.target.taskArn) !== state || state.checking) return;
    state.checking = true;
    const ok = await probe(state.target, this.#healthCheckPath);
    state.checking = false;
    if (this.#closed || this.#targets.get(state.target.taskArn) !== state) return;
    const before = state.health;
    if (ok) {
      state.failures = 0;
      state.health = "HEALTHY";
    } else {
      state.failures += 1;
      if (state.failures >= UNHEALTHY_THRESHOLD) state.health = "UNHEALTHY";
    }
    if (state.health !== before) {
      this.#log.info("target-health", { taskArn: state.target.taskArn, health: state.health });
      this.#o.onHealthChange();
    }
    state.timer = this.#o.clock.setTimeout(() => void this.#check(state), HEALTH_INTERVAL_MS);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const healthy = [...this.#targets.values()].filter((s) => s.health === "HEALTHY");
    if (healthy.length === 0) {
      res.writeHead(503, { "content-type": "text/plain" }).end("503 Service Temporarily Unavailable\n");
      return;
    }
    const { target } = healthy[this.#next++ % healthy.length]!;
    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, "x-forwarded-for": req.socket.remoteAddress ?? "" } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("502 Bad Gateway\n");
    });
    req.pipe(upstream);
  }
}

/** One health check: GET the path; 200-399 within the timeout is healthy. */
function probe(target: IngressTarget, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: target.host, port: target.port, path, method: "GET", timeout: HEALTH_TIMEOUT_MS }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      resolve(code >= 200 && code < 400);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}
