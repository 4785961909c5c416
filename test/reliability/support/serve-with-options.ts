// `src/cli.ts serve` with server options only tests set (JSON in SERVER_OPTIONS, e.g. the agent endpoint's
// address, or how long requests wait for the Docker side at start), for child servers a test may kill.
// Configuration otherwise comes from the environment.
import { loadConfig } from "../../../src/runtime/config.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { createServer, type ServerOptions } from "../../../src/runtime/server.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const extra = JSON.parse(process.env["SERVER_OPTIONS"] ?? "{}") as Pick<ServerOptions, "agentEndpoint" | "validateResponses" | "startupWaitMs">;
const server = await createServer({ config, logger, ...extra });
const { url } = await server.listen();
logger.info("server.listening", { url });
process.once("SIGTERM", () => {
  void server.close().then(() => process.exit(0));
});
