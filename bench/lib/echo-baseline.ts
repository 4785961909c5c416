import { join } from "node:path";
import { REPO_ROOT, removeDir, spawnServer, type ServerProcess } from "./server-process.ts";

/** The node:http JSON echo server (bench/lib/echo-server.cjs) as its own process: the ceiling and the floor. */
export async function startEchoServer(options: { probe?: "health" | "ecs" } = {}): Promise<ServerProcess & { dispose(): Promise<void> }> {
  const echo = await spawnServer({ script: join(REPO_ROOT, "bench/lib/echo-server.cjs"), args: [], nodeArgs: [], ...options });
  return {
    ...echo,
    async dispose() {
      await echo.stop();
      removeDir(echo.dataDir);
    },
  };
}
