import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";

/** Where .ci/session-manager-plugin.sh builds AWS's session-manager-plugin. */
export const PLUGIN_BUILD_DIR = resolve(import.meta.dirname, "../../.ci/cache/session-manager-plugin");

/**
 * The directory holding a `session-manager-plugin` binary: PATH first, then the CI build directory.
 * Undefined when there is none (then the tests that need it skip, and say so loudly).
 */
export function findSessionManagerPlugin(): string | undefined {
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter).filter(Boolean), PLUGIN_BUILD_DIR];
  return dirs.find((d) => existsSync(join(d, "session-manager-plugin")));
}
