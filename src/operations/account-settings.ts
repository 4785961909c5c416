import type { EcsOperations } from "../../generated/operations.ts";
import {
  SettingNameValues,
  type DeleteAccountSettingRequest,
  type DeleteAccountSettingResponse,
  type ListAccountSettingsRequest,
  type ListAccountSettingsResponse,
  type PutAccountSettingDefaultRequest,
  type PutAccountSettingDefaultResponse,
  type PutAccountSettingRequest,
  type PutAccountSettingResponse,
  type Setting,
  type SettingName,
} from "../../generated/shapes.ts";
import { InvalidParameterException } from "../../generated/errors.ts";
import { AWS_MANAGED_SETTINGS, type AccountSettingStore } from "../runtime/store/account-setting-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, invalidToken, isString } from "./pagination.ts";

export interface AccountSettingOperationsOptions {
  accountSettings: AccountSettingStore;
}

const ENABLED_DISABLED = ["enabled", "disabled"];

/** Accepted values per setting (PutAccountSetting documentation). */
const VALID_VALUES: Readonly<Record<SettingName, readonly string[]>> = {
  serviceLongArnFormat: ENABLED_DISABLED,
  taskLongArnFormat: ENABLED_DISABLED,
  containerInstanceLongArnFormat: ENABLED_DISABLED,
  awsvpcTrunking: ENABLED_DISABLED,
  containerInsights: ["enabled", "disabled", "enhanced"],
  fargateFIPSMode: ENABLED_DISABLED,
  tagResourceAuthorization: ["on", "off"],
  fargateTaskRetirementWaitPeriod: ["0", "7", "14"],
  guardDutyActivate: ["on", "off"],
  defaultLogDriverMode: ["blocking", "non-blocking"],
  fargateEventWindows: ENABLED_DISABLED,
};

const PRINCIPAL_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+)$/;

/**
 * Account settings. We cannot tell which IAM principal signed a request, so "the caller" is the account's
 * root user: settings without principalArn are account-wide, which is also what PutAccountSettingDefault
 * writes. An explicit user/role principalArn gets its own overrides.
 */
export function accountSettingOperations(
  _deps: OperationDeps,
  options: AccountSettingOperationsOptions,
): Partial<EcsOperations<OperationContext>> {
  const root = options.accountSettings.rootArn;
  /** "Account settings are set on a per-Region basis": every operation works on the caller's region. */
  const regional = (ctx: OperationContext): AccountSettingStore => options.accountSettings.inRegion(ctx.region);

  const principalOf = (principalArn: string | undefined): string => {
    if (principalArn === undefined || principalArn === "") return root;
    if (!PRINCIPAL_PATTERN.test(principalArn)) {
      throw new InvalidParameterException(
        `Invalid principalArn '${principalArn}'. Specify the ARN of an IAM user, an IAM role, or the root user.`,
      );
    }
    return principalArn;
  };

  const checkWrite = (name: SettingName, value: string, principalArn: string): void => {
    if (AWS_MANAGED_SETTINGS.has(name)) {
      throw new InvalidParameterException(`The account setting ${name} is managed by AWS and can't be modified.`);
    }
    const valid = VALID_VALUES[name];
    if (!valid.includes(value)) {
      throw new InvalidParameterException(`Invalid value '${value}' for account setting ${name}. Valid values: ${valid.join(", ")}.`);
    }
    if (name === "fargateTaskRetirementWaitPeriod" && principalArn !== root) {
      throw new InvalidParameterException("You must use the root user when you set fargateTaskRetirementWaitPeriod.");
    }
  };

  return {
    async listAccountSettings(input: ListAccountSettingsRequest, ctx): Promise<ListAccountSettingsResponse> {
      const store = regional(ctx);
      const limit = input.maxResults === undefined || input.maxResults === 0 ? 10 : input.maxResults;
      if (!Number.isInteger(limit) || limit < 1 || limit > 10) {
        throw new InvalidParameterException(`maxResults must be between 1 and 10; got ${input.maxResults}.`);
      }
      const principalArn = principalOf(input.principalArn);
      let settings: Setting[] = input.effectiveSettings === true
        ? SettingNameValues.map((name) => store.effective(name, principalArn))
        : store.listExplicit(principalArn).map((s) => ({ ...s, type: AWS_MANAGED_SETTINGS.has(s.name) ? "aws_managed" : "user" }));
      if (input.name !== undefined) settings = settings.filter((s) => s.name === input.name);
      if (input.value !== undefined && input.value !== "") settings = settings.filter((s) => s.value === input.value);

      let start = 0;
      if (input.nextToken !== undefined) {
        const after = decodeToken(input.nextToken, "setting", isString);
        const index = settings.findIndex((s) => s.name === after);
        if (index < 0) throw invalidToken();
        start = index + 1;
      }
      const page = settings.slice(start, start + limit);
      const response: ListAccountSettingsResponse = { settings: page };
      const last = page.at(-1);
      if (start + limit < settings.length && last?.name !== undefined) response.nextToken = encodeToken("setting", last.name);
      return response;
    },

    async putAccountSetting(input: PutAccountSettingRequest, ctx): Promise<PutAccountSettingResponse> {
      const principalArn = principalOf(input.principalArn);
      checkWrite(input.name, input.value, principalArn);
      return { setting: regional(ctx).put(input.name, principalArn, input.value) };
    },

    async putAccountSettingDefault(input: PutAccountSettingDefaultRequest, ctx): Promise<PutAccountSettingDefaultResponse> {
      checkWrite(input.name, input.value, root);
      return { setting: regional(ctx).put(input.name, root, input.value) };
    },

    async deleteAccountSetting(input: DeleteAccountSettingRequest, ctx): Promise<DeleteAccountSettingResponse> {
      const store = regional(ctx);
      const principalArn = principalOf(input.principalArn);
      if (AWS_MANAGED_SETTINGS.has(input.name)) {
        throw new InvalidParameterException(`The account setting ${input.name} is managed by AWS and can't be modified.`);
      }
      const before = store.effective(input.name, principalArn).value;
      const removed = store.delete(input.name, principalArn);
      // Real ECS answers with the setting as it was before the deletion.
      return { setting: { name: input.name, value: removed ?? before, principalArn } };
    },
  };
}
