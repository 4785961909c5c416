import { ECSClient } from "@aws-sdk/client-ecs";
import { loadConfig, type Config } from "../../src/runtime/config.ts";
import { silentLogger, type Logger } from "../../src/runtime/logger.ts";
import { createServer, type LocalEcsApi } from "../../src/runtime/server.ts";
import type { EngineProbeFactory } from "../../src/runtime/instances/engine-probe.ts";

export interface TestServer {
  url: string;
  server: LocalEcsApi;
  ecs: ECSClient;
  /** Raw awsJson1_1 call, for inputs the SDK would refuse to send. */
  call(operation: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
  close(): Promise<void>;
}

export const TARGET = "AmazonEC2ContainerServiceV20141113";

/** Starts the real server in-process on a free port (control plane only unless docker is asked for). */
export async function startTestServer(
  options: { env?: Record<string, string>; config?: Partial<Config>; docker?: boolean; logger?: Logger; instanceProbes?: EngineProbeFactory } = {},
): Promise<TestServer> {
  const config = {
    ...loadConfig({ DATA_DIR: ":memory:", PORT: "0", AWS_DEFAULT_REGION: "us-east-1", ...options.env }),
    ...options.config,
  };
  const server = await createServer({
    config,
    logger: options.logger ?? silentLogger,
    docker: options.docker ?? false,
    validateResponses: true,
    ...(options.instanceProbes === undefined ? {} : { instanceProbes: options.instanceProbes }),
  });
  const { url } = await server.listen();
  const ecs = new ECSClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  return {
    url,
    server,
    ecs,
    async call(operation, body, headers = {}) {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `${TARGET}.${operation}`,
          ...headers,
        },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    },
    async close() {
      ecs.destroy();
      await server.close();
    },
  };
}
