import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * Ids that may name the container this process runs in (its hostname, and the 64-hex id in the mount
 * table), when it runs in one at all; empty on a host. The caller asks the Docker daemon which of them
 * it knows: a sandbox can look like a container without being one of this daemon's.
 */
export function ownContainerCandidates(): string[] {
  if (!existsSync("/.dockerenv") && !existsSync("/run/.containerenv")) return [];
  const candidates = new Set<string>([hostname()]);
  try {
    const m = /\/(?:docker\/)?containers\/([0-9a-f]{64})\//.exec(readFileSync("/proc/self/mountinfo", "utf8"));
    if (m?.[1] !== undefined) candidates.add(m[1]);
  } catch {
    // not Linux, or no procfs
  }
  return [...candidates];
}
