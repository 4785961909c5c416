import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { operationsTable, servedOperations, withTable } from "../src/readme-table.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("lists exactly the operations the server emulates (regenerate with npm run readme)", async () => {
    const served = await servedOperations();
    expect(served).toContain("RunTask");
    expect(withTable(readme, operationsTable(served))).toBe(readme);
  });

  it("holds the two commands of a fresh machine and the test command CI runs", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toMatch(/^<!-- test-command: npm test -->$/m);
    expect(readme).toContain("docker compose up -d");
  });
});
