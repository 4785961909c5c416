import { join } from "node:path";
import { REPO_ROOT, removeDir, spawnServer, type ServerProcess } from "./server-process.ts";

/** The node:http JSON echo server (bench/lib/echo-server.ts) as its own process: the ceiling. */
export async function startEchoServer(): Promise<ServerProcess & { dispose(): Promise<void> }> {
  const echo = await spawnServer({ script: join(REPO_ROOT, "bench/lib/echo-server.ts"), args: [] });
  return {
    ...echo,
    async dispose() {
      await echo.stop();
      removeDir(echo.dataDir);
    },
  };
}
