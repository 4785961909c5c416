import { afterEach, describe, expect, it } from "vitest";
import { SettingNameValues, type PutAccountSettingRequest } from "../../generated/shapes.ts";
import { ACCOUNT, errorOf, makeFixture, type Fixture } from "./control-plane-fixture.ts";

const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const USER = `arn:aws:iam::${ACCOUNT}:user/principalName`;

let fx: Fixture;
afterEach(() => fx?.close());

describe("account settings", () => {
  it("lists nothing explicit on a fresh account, and every effective default", async () => {
    fx = makeFixture();
    expect(await fx.ops.listAccountSettings({}, fx.ctx)).toEqual({ settings: [] });
    const all: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await fx.ops.listAccountSettings({ effectiveSettings: true, ...(nextToken ? { nextToken } : {}) }, fx.ctx);
      expect(page.settings!.length).toBeLessThanOrEqual(10);
      all.push(...page.settings!.map((s) => `${s.name}=${s.value}`));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(all).toHaveLength(SettingNameValues.length);
    expect(all).toEqual(
      expect.arrayContaining([
        "serviceLongArnFormat=enabled",
        "taskLongArnFormat=enabled",
        "containerInstanceLongArnFormat=enabled",
        "awsvpcTrunking=disabled",
        "containerInsights=disabled",
        "tagResourceAuthorization=on",
      ]),
    );
  });

  it("applies principal value over account default over AWS default", async () => {
    fx = makeFixture();
    const def = await fx.ops.putAccountSettingDefault({ name: "containerInsights", value: "enabled" }, fx.ctx);
    expect(def.setting).toEqual({ name: "containerInsights", value: "enabled", principalArn: ROOT });
    const own = await fx.ops.putAccountSetting({ name: "containerInsights", value: "enhanced", principalArn: USER }, fx.ctx);
    expect(own.setting).toEqual({ name: "containerInsights", value: "enhanced", principalArn: USER });

    const forUser = await fx.ops.listAccountSettings({ effectiveSettings: true, principalArn: USER, name: "containerInsights" }, fx.ctx);
    expect(forUser.settings).toEqual([{ name: "containerInsights", value: "enhanced", principalArn: USER, type: "user" }]);
    const forRoot = await fx.ops.listAccountSettings({ effectiveSettings: true, name: "containerInsights" }, fx.ctx);
    expect(forRoot.settings?.[0]?.value).toBe("enabled");

    const deleted = await fx.ops.deleteAccountSetting({ name: "containerInsights", principalArn: USER }, fx.ctx);
    expect(deleted.setting).toEqual({ name: "containerInsights", value: "enhanced", principalArn: USER });
    const after = await fx.ops.listAccountSettings({ effectiveSettings: true, principalArn: USER, name: "containerInsights" }, fx.ctx);
    expect(after.settings?.[0]?.value).toBe("enabled");
  });

  it("filters by value and lists explicit settings", async () => {
    fx = makeFixture();
    await fx.ops.putAccountSetting({ name: "awsvpcTrunking", value: "enabled" }, fx.ctx);
    await fx.ops.putAccountSetting({ name: "serviceLongArnFormat", value: "disabled" }, fx.ctx);
    const explicit = await fx.ops.listAccountSettings({}, fx.ctx);
    expect(explicit.settings?.map((s) => s.name)).toEqual(["awsvpcTrunking", "serviceLongArnFormat"]);
    const disabled = await fx.ops.listAccountSettings({ effectiveSettings: true, value: "disabled" }, fx.ctx);
    expect(disabled.settings?.map((s) => s.name)).toContain("serviceLongArnFormat");
    expect(disabled.settings?.map((s) => s.name)).not.toContain("awsvpcTrunking");
  });

  it.each([
    [{ name: "containerInsights" as const, value: "sometimes" }, /Invalid value 'sometimes' for account setting containerInsights/],
    [{ name: "tagResourceAuthorization" as const, value: "enabled" }, /Valid values: on, off/],
    [{ name: "guardDutyActivate" as const, value: "on" }, /managed by AWS/],
    [{ name: "fargateTaskRetirementWaitPeriod" as const, value: "7", principalArn: USER }, /root user/],
    [{ name: "awsvpcTrunking" as const, value: "enabled", principalArn: "someone" }, /Invalid principalArn/],
  ] as Array<[PutAccountSettingRequest, RegExp]>)("rejects %j", async (input, message) => {
    fx = makeFixture();
    const err = await errorOf(fx.ops.putAccountSetting(input, fx.ctx));
    expect(err.type).toBe("InvalidParameterException");
    expect(err.message).toMatch(message);
    expect(fx.stores.accountSettings.listExplicit(input.principalArn ?? ROOT)).toEqual([]);
  });

  it("validates maxResults and tokens", async () => {
    fx = makeFixture();
    expect((await errorOf(fx.ops.listAccountSettings({ maxResults: 11 }, fx.ctx))).type).toBe("InvalidParameterException");
    expect((await errorOf(fx.ops.listAccountSettings({ nextToken: "nope" }, fx.ctx))).type).toBe("InvalidParameterException");
    const page = await fx.call("ListAccountSettings", { effectiveSettings: true, maxResults: 2 });
    expect((page["settings"] as unknown[]).length).toBe(2);
    expect(typeof page["nextToken"]).toBe("string");
  });
});
