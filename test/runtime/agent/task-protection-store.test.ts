// Task protection kept in SQLite: what UpdateTaskProtection or the agent endpoint set survives a server
// restart (a new store on the same database), and expiry is still judged by the clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteTaskProtectionStore } from "../../../src/runtime/agent/task-protection-store.ts";
import type { TimeSource } from "../../../src/runtime/clock.ts";
import { openDatabase } from "../../../src/runtime/database.ts";

const TASK = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef";
const OTHER = "arn:aws:ecs:us-east-1:123456789012:task/default/fedcba9876543210fedcba9876543210";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "protection-store-"));
  dirs.push(d);
  return d;
}

describe("SqliteTaskProtectionStore", () => {
  it("keeps protection across a reopen of the database; disabling and delete are kept too", () => {
    let now = Date.parse("2024-01-01T00:00:00Z");
    const clock: TimeSource = { now: () => new Date(now) };
    const dir = dataDir();
    const db1 = openDatabase(dir);
    const first = new SqliteTaskProtectionStore(db1, clock);
    const set = first.update(TASK, true, 30);
    expect(set).toEqual({ taskArn: TASK, protectionEnabled: true, expirationDate: new Date(now + 30 * 60_000) });
    first.update(OTHER, true, 10);
    first.update(OTHER, false);
    db1.close();

    now += 60_000;
    const db2 = openDatabase(dir);
    try {
      const second = new SqliteTaskProtectionStore(db2, clock);
      expect(second.get(TASK)).toEqual(set);
      expect(second.get(OTHER)).toEqual({ taskArn: OTHER, protectionEnabled: false, expirationDate: undefined });
      second.delete(TASK);
      expect(new SqliteTaskProtectionStore(db2, clock).get(TASK).protectionEnabled).toBe(false);
    } finally {
      db2.close();
    }
  });

  it("honours the stored expiration against the clock, also when it passed while the server was down", () => {
    let now = Date.parse("2024-01-01T00:00:00Z");
    const clock: TimeSource = { now: () => new Date(now) };
    const dir = dataDir();
    const db1 = openDatabase(dir);
    const first = new SqliteTaskProtectionStore(db1, clock);
    expect(first.update(TASK, true, 1).expirationDate).toEqual(new Date(now + 60_000));
    expect(first.update(OTHER, true, 5).expirationDate).toEqual(new Date(now + 5 * 60_000));
    now += 59_000;
    expect(first.get(TASK).protectionEnabled).toBe(true);
    now += 1000;
    expect(first.get(TASK)).toEqual({ taskArn: TASK, protectionEnabled: false, expirationDate: undefined });
    db1.close();

    now += 10 * 60_000;
    const db2 = openDatabase(dir);
    try {
      const second = new SqliteTaskProtectionStore(db2, clock);
      expect(second.get(OTHER).protectionEnabled).toBe(false);
      // Expired rows are dropped, not kept forever.
      expect(db2.prepare("SELECT COUNT(*) AS n FROM agent_task_protection").get()?.["n"]).toBe(0);
    } finally {
      db2.close();
    }
  });

  it("validates the duration like ECS (1..2880 minutes, default 120)", () => {
    const now = Date.parse("2024-01-01T00:00:00Z");
    const db = openDatabase(":memory:");
    try {
      const store = new SqliteTaskProtectionStore(db, { now: () => new Date(now) });
      expect(() => store.update(TASK, true, 0)).toThrow(/between 1 and 2880/);
      expect(() => store.update(TASK, true, 2881)).toThrow(/between 1 and 2880/);
      expect(store.get(TASK).protectionEnabled).toBe(false);
      expect(store.update(TASK, true).expirationDate).toEqual(new Date(now + 120 * 60_000));
    } finally {
      db.close();
    }
  });
});
