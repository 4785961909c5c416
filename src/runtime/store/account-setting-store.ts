import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ClusterSetting, SettingName, SettingType } from "../../../generated/shapes.ts";
import { DEFAULT_REGION } from "../config.ts";
import { addRegionColumn } from "../database.ts";

/**
 * Account settings per (name, principal). The account-wide default is the row of the root principal
 * (`arn:aws:iam::<account>:root`), which is what PutAccountSettingDefault writes; a user or role row
 * overrides it for that principal. Without any row the AWS default applies.
 */
export interface StoredSetting {
  name: SettingName;
  value: string;
  principalArn: string;
}

export interface EffectiveSetting extends StoredSetting {
  type: SettingType;
}

/** What a fresh account reports, per setting (the current AWS defaults). */
export const ACCOUNT_SETTING_DEFAULTS: Readonly<Record<SettingName, string>> = {
  serviceLongArnFormat: "enabled",
  taskLongArnFormat: "enabled",
  containerInstanceLongArnFormat: "enabled",
  awsvpcTrunking: "disabled",
  containerInsights: "disabled",
  fargateFIPSMode: "disabled",
  tagResourceAuthorization: "on",
  fargateTaskRetirementWaitPeriod: "7",
  guardDutyActivate: "off",
  defaultLogDriverMode: "non-blocking",
  fargateEventWindows: "disabled",
};

/** Settings AWS manages itself; they are read-only through the API. */
export const AWS_MANAGED_SETTINGS: ReadonlySet<SettingName> = new Set<SettingName>(["guardDutyActivate"]);

interface AccountSettingTable {
  db: DatabaseSync;
  select: StatementSync;
  upsert: StatementSync;
  delete: StatementSync;
  byPrincipal: StatementSync;
  views: Map<string, AccountSettingStore>;
}

/** Account settings are set per Region (PutAccountSetting): a store is one region's view, `inRegion` gives the others. */
export class AccountSettingStore {
  readonly region: string;
  readonly #accountId: string;
  readonly #rootArn: string;
  readonly #table: AccountSettingTable;

  /** A store for `region` (default: the configured region, us-east-1 unless configured). */
  constructor(db: DatabaseSync, accountId: string, region?: string);
  constructor(db: DatabaseSync, accountId: string, region: string, table: AccountSettingTable);
  constructor(db: DatabaseSync, accountId: string, region = DEFAULT_REGION, table?: AccountSettingTable) {
    this.region = region;
    this.#accountId = accountId;
    this.#rootArn = rootPrincipalArn(accountId);
    this.#table = table ?? openAccountSettingTable(db, region);
    this.#table.views.set(region, this);
  }

  /** The same store for another region. */
  inRegion(region: string): AccountSettingStore {
    return this.#table.views.get(region) ?? new AccountSettingStore(this.#table.db, this.#accountId, region, this.#table);
  }

  get rootArn(): string {
    return this.#rootArn;
  }

  get(name: SettingName, principalArn: string): string | undefined {
    const row = this.#table.select.get(this.region, name, principalArn);
    return row === undefined ? undefined : String(row["value"]);
  }

  put(name: SettingName, principalArn: string, value: string): StoredSetting {
    this.#table.upsert.run(this.region, name, principalArn, value);
    return { name, value, principalArn };
  }

  /** Removes the principal's own value; returns it, or undefined when there was none. */
  delete(name: SettingName, principalArn: string): string | undefined {
    const previous = this.get(name, principalArn);
    this.#table.delete.run(this.region, name, principalArn);
    return previous;
  }

  /** Settings explicitly set for this principal, in name order. */
  listExplicit(principalArn: string): StoredSetting[] {
    return this.#table.byPrincipal.all(this.region, principalArn).map((row) => ({
      name: row["name"] as SettingName,
      value: String(row["value"]),
      principalArn,
    }));
  }

  /** principal's own value → account default (root row) → AWS default. */
  effective(name: SettingName, principalArn: string = this.#rootArn): EffectiveSetting {
    const value = this.get(name, principalArn) ?? this.get(name, this.#rootArn) ?? ACCOUNT_SETTING_DEFAULTS[name];
    return { name, value, principalArn, type: AWS_MANAGED_SETTINGS.has(name) ? "aws_managed" : "user" };
  }

  /** Settings a new cluster gets when its creator gives none: containerInsights follows the account default. */
  clusterDefaults(): ClusterSetting[] {
    return [{ name: "containerInsights", value: this.effective("containerInsights").value }];
  }
}

function createAccountSettingsTable(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS account_settings (
      region TEXT NOT NULL,
      name TEXT NOT NULL,
      principal_arn TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (region, name, principal_arn)
    );
  `);
}

/** A database written before settings were regional: its settings belong to the configured region. */
function openAccountSettingTable(db: DatabaseSync, configuredRegion: string): AccountSettingTable {
  addRegionColumn(db, "account_settings", () => createAccountSettingsTable(db), () => configuredRegion);
  createAccountSettingsTable(db);
  return {
    db,
    select: db.prepare("SELECT value FROM account_settings WHERE region = ? AND name = ? AND principal_arn = ?"),
    upsert: db.prepare(`INSERT INTO account_settings (region, name, principal_arn, value) VALUES (?, ?, ?, ?)
      ON CONFLICT (region, name, principal_arn) DO UPDATE SET value = excluded.value`),
    delete: db.prepare("DELETE FROM account_settings WHERE region = ? AND name = ? AND principal_arn = ?"),
    byPrincipal: db.prepare("SELECT name, value FROM account_settings WHERE region = ? AND principal_arn = ? ORDER BY name"),
    views: new Map(),
  };
}

export function rootPrincipalArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}
