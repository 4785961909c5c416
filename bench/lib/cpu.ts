import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the ")" that closes the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export function pidsOf(name: string): number[] {
  try {
    return execFileSync("pidof", [name], { encoding: "utf8" }).trim().split(/\s+/).filter((s) => s !== "").map(Number);
  } catch {
    return [];
  }
}

export interface CpuMeter {
  /** CPU seconds per named process group since the meter was made. */
  read(): Record<string, number>;
}

/** Measures the emulator against the Docker daemons, to say which side limits a burst. */
export function cpuMeter(groups: Record<string, number[]>): CpuMeter {
  const total = (pids: number[]): number => pids.reduce((a, p) => a + (cpuSeconds(p) || 0), 0);
  const start = Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, total(pids)]));
  return {
    read: () => Object.fromEntries(Object.entries(groups).map(([k, pids]) => [k, Math.round((total(pids) - start[k]!) * 100) / 100])),
  };
}

export const CPUS = availableParallelism();

/** Whole-machine CPU busy fraction since the meter was made (from /proc/stat), e.g. shims and runc included. */
export function machineBusyMeter(): { read(): number } {
  const sample = (): { busy: number; total: number } => {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  };
  const start = sample();
  return {
    read: () => {
      const now = sample();
      return (now.busy - start.busy) / Math.max(1, now.total - start.total);
    },
  };
}
