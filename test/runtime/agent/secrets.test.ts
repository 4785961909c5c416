import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentAwsClients, type AgentAwsClients } from "../../../src/runtime/agent/aws-clients.ts";
import { RoleCredentialsProvider } from "../../../src/runtime/agent/role-credentials.ts";
import { parseSecretReference, renderJsonValue, SecretResolutionError, SecretsResolver } from "../../../src/runtime/agent/secrets.ts";
import { createLogger, silentLogger } from "../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../support/moto.ts";
import { motoConfig } from "./helpers.ts";

const TASK = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef";
const EXEC_ROLE = "arn:aws:iam::123456789012:role/exec";
const PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: ";

let moto: MotoServer;
let clients: AgentAwsClients;
let resolver: SecretsResolver;
let dbArn: string;
let binArn: string;
let staged: { arn: string; v1: string; v2: string };
const logLines: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  const seed = { region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials };
  const ssm = new SSMClient(seed);
  await ssm.send(new PutParameterCommand({ Name: "plain", Value: "plain-value", Type: "SecureString" }));
  await ssm.send(new PutParameterCommand({ Name: "/app/db/password", Value: "hier-value", Type: "SecureString" }));
  await ssm.send(new PutParameterCommand({ Name: "/app/flag", Value: "flag-value", Type: "String" }));
  for (let i = 0; i < 12; i++) await ssm.send(new PutParameterCommand({ Name: `/bulk/p${i}`, Value: `v${i}`, Type: "String" }));
  const asm = new SecretsManagerClient(seed);
  dbArn = (await asm.send(new CreateSecretCommand({ Name: "db", SecretString: JSON.stringify({ user: "admin", port: 5432, ratio: 0.00001, on: true, nested: { a: 1 }, none: null }) }))).ARN!;
  binArn = (await asm.send(new CreateSecretCommand({ Name: "bin", SecretBinary: Buffer.from("binary!") }))).ARN!;
  const created = await asm.send(new CreateSecretCommand({ Name: "rotating", SecretString: "first" }));
  const v2 = await asm.send(new PutSecretValueCommand({ SecretId: "rotating", SecretString: "second" }));
  staged = { arn: created.ARN!, v1: created.VersionId!, v2: v2.VersionId! };
  ssm.destroy();
  asm.destroy();
  clients = createAgentAwsClients(motoConfig(moto), {});
  const credentials = new RoleCredentialsProvider({ clients, logger: silentLogger });
  resolver = new SecretsResolver({ clients, credentials, logger: createLogger("debug", (l) => logLines.push(l)) });
});
afterAll(async () => {
  clients?.destroy();
  await moto?.stop();
});

const ctx = { taskArn: TASK, executionRoleArn: EXEC_ROLE };

describe("SSM parameters", () => {
  it("resolves plain names, hierarchical names and ARNs with decryption", async () => {
    const out = await resolver.resolveContainer(
      {
        secrets: [
          { name: "A", valueFrom: "plain" },
          { name: "B", valueFrom: "/app/db/password" },
          { name: "C", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/app/flag" },
          { name: "D", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/plain" },
        ],
        logConfiguration: { secretOptions: [{ name: "splunk-token", valueFrom: "/app/flag" }] },
      },
      ctx,
    );
    expect(out.environment).toEqual({ A: "plain-value", B: "hier-value", C: "flag-value", D: "plain-value" });
    expect(out.logOptions).toEqual({ "splunk-token": "flag-value" });
  });

  it("batches more than 10 parameters", async () => {
    const secrets = Array.from({ length: 12 }, (_, i) => ({ name: `P${i}`, valueFrom: `/bulk/p${i}` }));
    const out = await resolver.resolveContainer({ secrets }, ctx);
    expect(out.environment["P11"]).toBe("v11");
    expect(Object.keys(out.environment)).toHaveLength(12);
  });

  it("fails with the agent's ResourceInitializationError naming the missing parameter", async () => {
    const err = await resolver.resolve([{ name: "X", valueFrom: "plain" }, { name: "Y", valueFrom: "/does/not/exist" }], ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretResolutionError);
    expect((err as Error).message).toBe(`${PREFIX}execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: /does/not/exist`);
    expect((err as SecretResolutionError).secrets).toEqual(["/does/not/exist"]);
  });
});

describe("Secrets Manager", () => {
  it("resolves a whole secret, a json key and scalar renderings", async () => {
    const out = await resolver.resolveContainer(
      {
        secrets: [
          { name: "WHOLE", valueFrom: dbArn },
          { name: "USER", valueFrom: `${dbArn}:user::` },
          { name: "PORT", valueFrom: `${dbArn}:port::` },
          { name: "RATIO", valueFrom: `${dbArn}:ratio::` },
          { name: "ON", valueFrom: `${dbArn}:on::` },
          { name: "NESTED", valueFrom: `${dbArn}:nested::` },
          { name: "NONE", valueFrom: `${dbArn}:none::` },
        ],
      },
      ctx,
    );
    expect(JSON.parse(out.environment["WHOLE"]!)).toMatchObject({ user: "admin" });
    expect(out.environment).toMatchObject({ USER: "admin", PORT: "5432", RATIO: "1e-05", ON: "true", NESTED: '{"a":1}', NONE: "<nil>" });
  });

  it("honours version-stage and version-id", async () => {
    const out = await resolver.resolveContainer(
      {
        secrets: [
          { name: "CUR", valueFrom: `${staged.arn}::AWSCURRENT:` },
          { name: "PREV", valueFrom: `${staged.arn}::AWSPREVIOUS:` },
          { name: "V1", valueFrom: `${staged.arn}:::${staged.v1}` },
          { name: "V2", valueFrom: `${staged.arn}:::${staged.v2}` },
        ],
      },
      ctx,
    );
    expect(out.environment).toEqual({ CUR: "second", PREV: "first", V1: "first", V2: "second" });
  });

  it("injects a binary-only secret as empty, like the agent, and warns without the value", async () => {
    const out = await resolver.resolveContainer({ secrets: [{ name: "BIN", valueFrom: binArn }] }, ctx);
    expect(out.environment["BIN"]).toBe("");
    expect(logLines.some((l) => l.includes("agent.secrets.binary_secret"))).toBe(true);
    expect(logLines.join("\n")).not.toContain("binary!");
  });

  it("fails for a missing secret and a missing json key with the agent's messages", async () => {
    const missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf";
    const e1 = (await resolver.resolve([{ name: "N", valueFrom: missing }], ctx).catch((e: unknown) => e)) as Error;
    expect(e1).toBeInstanceOf(SecretResolutionError);
    expect(e1.message.startsWith(`${PREFIX}execution resource retrieval failed: unable to retrieve secret from asm: `)).toBe(true);
    expect(e1.message).toContain(missing);
    expect(e1.message).toContain("ResourceNotFoundException");
    const e2 = (await resolver.resolve([{ name: "K", valueFrom: `${dbArn}:password::` }], ctx).catch((e: unknown) => e)) as Error;
    expect(e2.message).toBe(
      `${PREFIX}execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s): retrieved secret from Secrets Manager did not contain json key password`,
    );
  });

  it("never puts secret values in the log", () => {
    const all = logLines.join("\n");
    for (const v of ["plain-value", "hier-value", "admin", "second"]) expect(all).not.toContain(v);
  });
});

describe("valueFrom parsing", () => {
  it("splits Secrets Manager ARNs exactly like the agent", () => {
    const base = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf";
    expect(parseSecretReference(base, "us-east-1")).toMatchObject({ kind: "secretsmanager", region: "eu-west-1", secretId: base, jsonKey: undefined });
    expect(parseSecretReference(`${base}:user:AWSPREVIOUS:`, "us-east-1")).toMatchObject({ secretId: base, jsonKey: "user", versionStage: "AWSPREVIOUS", versionId: undefined });
    expect(parseSecretReference(`${base}:::abc`, "us-east-1")).toMatchObject({ secretId: base, jsonKey: undefined, versionStage: undefined, versionId: "abc" });
    expect(() => parseSecretReference(`${base}:user`, "us-east-1")).toThrow(
      "unable to retrieve secret from asm: an invalid ARN format for the AWS Secrets Manager secret was specified. Specify a valid ARN and try again.",
    );
  });

  it("turns SSM ARNs into names and keeps plain names in the task region", () => {
    expect(parseSecretReference("arn:aws:ssm:eu-west-1:1:parameter/a/b", "us-east-1")).toMatchObject({ kind: "ssm", region: "eu-west-1", name: "/a/b" });
    expect(parseSecretReference("arn:aws:ssm:eu-west-1:1:parameter/name", "us-east-1")).toMatchObject({ name: "name" });
    expect(parseSecretReference("name", "us-east-2")).toMatchObject({ kind: "ssm", region: "us-east-2", name: "name" });
    expect(() => parseSecretReference("arn:aws:s3:::bucket/key", "us-east-1")).toThrow(SecretResolutionError);
  });

  it("renders JSON values like Go's %v", () => {
    expect(renderJsonValue("s")).toBe("s");
    expect(renderJsonValue(42)).toBe("42");
    expect(renderJsonValue(1.5)).toBe("1.5");
    expect(renderJsonValue(1e21)).toBe("1e+21");
    expect(renderJsonValue(false)).toBe("false");
    expect(renderJsonValue([1, 2])).toBe("[1,2]");
  });
});
