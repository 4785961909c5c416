#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./runtime/config.ts";
import { createLogger } from "./runtime/logger.ts";

const HELP = `local-ecs-api — a local Amazon ECS endpoint that runs tasks as Docker containers

Usage:
  local-ecs-api [serve]                       run the server (PORT, HOST, DATA_DIR, … from the environment)
  local-ecs-api compose-convert <file.json>   print a docker-compose file for a task definition JSON file
  local-ecs-api --version | --help

Configuration is read from environment variables; see the README's configuration table.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
  });
  if (values.help === true) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(version() + "\n");
    return 0;
  }
  const [command = "serve", ...rest] = positionals;
  switch (command) {
    case "serve":
      return serve();
    case "compose-convert": {
      const file = rest[0];
      if (file === undefined) {
        process.stderr.write("compose-convert needs a task definition JSON file\n");
        return 2;
      }
      const { convertTaskDefinitionJson, ComposeConversionError } = await import("./runtime/compose/compose-file.ts");
      let json: string;
      try {
        json = readFileSync(file, "utf8");
      } catch (err) {
        process.stderr.write(`compose-convert: cannot read ${file}: ${(err as Error).message}\n`);
        return 1;
      }
      try {
        const externalNetworks = loadConfig().externalNetworks;
        process.stdout.write(convertTaskDefinitionJson(json, { externalNetworks }));
      } catch (err) {
        if (err instanceof ComposeConversionError || err instanceof ConfigError) {
          process.stderr.write(`compose-convert: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}\n`);
      return 2;
  }
}

async function serve(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`local-ecs-api: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const { createServer, StartupError } = await import("./runtime/server.ts");
  let server;
  try {
    server = await createServer({ config, logger });
    const { url } = await server.listen();
    logger.info("server.listening", { url, version: version() });
  } catch (err) {
    if (err instanceof StartupError) {
      // One structured line that says what to fix; a stack trace would only hide it.
      logger.error("server.startup_failed", { message: err.message });
      return 1;
    }
    throw err;
  }
  const stop = (signal: string): void => {
    logger.info("server.stopping", { signal });
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return await new Promise<number>(() => {});
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`local-ecs-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
