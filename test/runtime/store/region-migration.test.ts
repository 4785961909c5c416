// A database written before resources were regional (clusters keyed by name, task definition families
// by family, account settings by name and principal) opens with every row in the region its ARN names
// (the configured region when there is none), and revision numbers carry on.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeClustersCommand, ECSClient, ListAccountSettingsCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/runtime/config.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { createServer, type LocalEcsApi } from "../../../src/runtime/server.ts";

const ACCOUNT = "123456789012";
const OLD = `arn:aws:ecs:us-east-1:${ACCOUNT}`;

/** The tables as version e753e25 created them, with a few rows. */
function writeOldDatabase(dir: string): void {
  const db = openDatabase(dir);
  db.exec(`
    CREATE TABLE clusters (name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, status TEXT NOT NULL, doc TEXT NOT NULL);
    CREATE TABLE task_definition_families (family TEXT PRIMARY KEY, last_revision INTEGER NOT NULL);
    CREATE TABLE task_definitions (arn TEXT PRIMARY KEY, family TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL,
      doc TEXT NOT NULL, UNIQUE (family, revision));
    CREATE INDEX task_definitions_status ON task_definitions (status, family, revision);
    CREATE TABLE account_settings (name TEXT NOT NULL, principal_arn TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, principal_arn));
  `);
  const cluster = { clusterArn: `${OLD}:cluster/old`, clusterName: "old", status: "ACTIVE", settings: [], capacityProviders: [], defaultCapacityProviderStrategy: [] };
  db.prepare("INSERT INTO clusters VALUES (?, ?, ?, ?)").run("old", cluster.clusterArn, "ACTIVE", JSON.stringify(cluster));
  for (const revision of [1, 2]) {
    const td = { taskDefinitionArn: `${OLD}:task-definition/fam:${revision}`, family: "fam", revision, status: "ACTIVE", containerDefinitions: [{ name: "c", image: "busybox", memory: 16 }] };
    db.prepare("INSERT INTO task_definitions VALUES (?, ?, ?, ?, ?)").run(td.taskDefinitionArn, "fam", revision, "ACTIVE", JSON.stringify(td));
  }
  // Revision 3 was registered and deleted: it must never be handed out again.
  db.prepare("INSERT INTO task_definition_families VALUES (?, ?)").run("fam", 3);
  db.prepare("INSERT INTO account_settings VALUES (?, ?, ?)").run("containerInsights", `arn:aws:iam::${ACCOUNT}:root`, "enabled");
  db.close();
}

let dir: string;
let server: LocalEcsApi;
let url: string;
const client = (region: string): ECSClient =>
  new ECSClient({ endpoint: url, region, credentials: { accessKeyId: "AKIDMIGRATE", secretAccessKey: "secret" }, maxAttempts: 1 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "lecs-migrate-"));
  writeOldDatabase(dir);
  server = await createServer({
    config: loadConfig({ DATA_DIR: dir, PORT: "0", AWS_DEFAULT_REGION: "us-east-1", AWS_ACCOUNT_ID: ACCOUNT }),
    logger: silentLogger,
    docker: false,
    validateResponses: true,
  });
  url = (await server.listen()).url;
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("opening a database from before regions", () => {
  it("keeps clusters in the region of their ARN", async () => {
    const here = await client("us-east-1").send(new DescribeClustersCommand({ clusters: ["old"] }));
    expect(here.clusters?.[0]?.clusterArn).toBe(`${OLD}:cluster/old`);
    const elsewhere = await client("eu-west-1").send(new DescribeClustersCommand({ clusters: ["old"] }));
    expect(elsewhere.failures?.[0]?.reason).toBe("MISSING");
  });

  it("continues revision numbers in that region and starts afresh in others", async () => {
    const containerDefinitions = [{ name: "c", image: "busybox", memory: 16 }];
    const next = await client("us-east-1").send(new RegisterTaskDefinitionCommand({ family: "fam", containerDefinitions }));
    expect(next.taskDefinition?.revision).toBe(4);
    const west = await client("eu-west-1").send(new RegisterTaskDefinitionCommand({ family: "fam", containerDefinitions }));
    expect(west.taskDefinition?.revision).toBe(1);
  });

  it("files account settings under the configured region", async () => {
    const value = async (region: string) =>
      (await client(region).send(new ListAccountSettingsCommand({ name: "containerInsights", effectiveSettings: true }))).settings?.[0]?.value;
    expect([await value("us-east-1"), await value("eu-west-1")]).toEqual(["enabled", "disabled"]);
  });

  it("leaves no trace of the old tables", () => {
    const db = openDatabase(dir);
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r["name"]);
      expect(tables).not.toContain("clusters_before_migration");
      const regions = db.prepare("SELECT region, name FROM clusters").all().map((r) => `${String(r["region"])}/${String(r["name"])}`);
      expect(regions).toContain("us-east-1/old");
    } finally {
      db.close();
    }
  });
});
