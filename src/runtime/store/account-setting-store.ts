import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ClusterSetting, SettingName, SettingType } from "../../../generated/shapes.ts";

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

export class AccountSettingStore {
  readonly #rootArn: string;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #delete: StatementSync;
  readonly #byPrincipal: StatementSync;

  constructor(db: DatabaseSync, accountId: string) {
    this.#rootArn = rootPrincipalArn(accountId);
    db.exec(`
      CREATE TABLE IF NOT EXISTS account_settings (
        name TEXT NOT NULL,
        principal_arn TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (name, principal_arn)
      );
    `);
    this.#select = db.prepare("SELECT value FROM account_settings WHERE name = ? AND principal_arn = ?");
    this.#upsert = db.prepare(`INSERT INTO account_settings (name, principal_arn, value) VALUES (?, ?, ?)
      ON CONFLICT (name, principal_arn) DO UPDATE SET value = excluded.value`);
    this.#delete = db.prepare("DELETE FROM account_settings WHERE name = ? AND principal_arn = ?");
    this.#byPrincipal = db.prepare("SELECT name, value FROM account_settings WHERE principal_arn = ? ORDER BY name");
  }

  get rootArn(): string {
    return this.#rootArn;
  }

  get(name: SettingName, principalArn: string): string | undefined {
    const row = this.#select.get(name, principalArn);
    return row === undefined ? undefined : String(row["value"]);
  }

  put(name: SettingName, principalArn: string, value: string): StoredSetting {
    this.#upsert.run(name, principalArn, value);
    return { name, value, principalArn };
  }

  /** Removes the principal's own value; returns it, or undefined when there was none. */
  delete(name: SettingName, principalArn: string): string | undefined {
    const previous = this.get(name, principalArn);
    this.#delete.run(name, principalArn);
    return previous;
  }

  /** Settings explicitly set for this principal, in name order. */
  listExplicit(principalArn: string): StoredSetting[] {
    return this.#byPrincipal.all(principalArn).map((row) => ({
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

export function rootPrincipalArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}
