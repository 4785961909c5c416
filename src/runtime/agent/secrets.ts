// Resolves `secrets[]` and `logConfiguration.secretOptions` the way the ECS agent does, with the task
// execution role's credentials. Values stay in memory and are never logged.
//
// Agent behaviours kept on purpose:
// - A valueFrom that is not an ARN, or an `arn:…:ssm:…` ARN, is an SSM parameter; `arn:…:secretsmanager:…`
//   is Secrets Manager. The region comes from the ARN, else the task's region.
// - SSM parameter ARNs become names: `parameter/a/b` → `/a/b` (hierarchical), `parameter/name` → `name`.
// - Secrets Manager `…:secret:<id>[:json-key:version-stage:version-id]` is split on `:` exactly like
//   `getASMParametersFromInput`: 2 parts → the whole valueFrom is the SecretId, 5 parts → SecretId from
//   parts 0–1 plus json-key/stage/id (empty → unset), anything else → the agent's "invalid ARN" error.
// - Only `SecretString` is read (the agent's `aws.StringValue(SecretString)`): a binary-only secret is
//   injected as the empty string, as on real ECS, and we log a warning (name only) to make that visible.
// - json-key values are rendered like Go's `%v` for scalars (strings raw, numbers as Go prints float64,
//   booleans, null → "<nil>"); objects and arrays are rendered as JSON, a deliberate divergence from Go's
//   `map[a:1]` form, which no consumer can parse.
import type { AwsCredentialIdentity } from "@smithy/types";
import { parseArn } from "../arns.ts";
import type { Logger } from "../logger.ts";
import type { AgentAwsClients } from "./aws-clients.ts";
import type { RoleCredentialsProvider } from "./role-credentials.ts";

/** Structurally the ECS `Secret` shape. */
export interface SecretRef {
  name: string;
  valueFrom: string;
}

/** The parts of a container definition that carry secrets. */
export interface ContainerSecretsSource {
  name?: string | undefined;
  secrets?: readonly SecretRef[] | undefined;
  logConfiguration?: { secretOptions?: readonly SecretRef[] | undefined } | undefined;
}

export interface SecretContext {
  taskArn: string;
  executionRoleArn?: string | undefined;
  /** Region for plain SSM names (the task's region); defaults to the server region. */
  region?: string | undefined;
}

export type SecretReference =
  | { kind: "ssm"; valueFrom: string; region: string; name: string }
  | {
      kind: "secretsmanager";
      valueFrom: string;
      region: string;
      secretId: string;
      jsonKey: string | undefined;
      versionStage: string | undefined;
      versionId: string | undefined;
    };

const PREFIX = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: ";

/** The engine turns this into stopCode TaskFailedToStart with the message as stoppedReason. */
export class SecretResolutionError extends Error {
  override name = "SecretResolutionError";
  /** The valueFrom(s) that failed. */
  readonly secrets: readonly string[];
  constructor(detail: string, secrets: readonly string[]) {
    super(PREFIX + detail);
    this.secrets = secrets;
  }
}

const ASM_INVALID_ARN = "an invalid ARN format for the AWS Secrets Manager secret was specified. Specify a valid ARN and try again.";

export function parseSecretReference(valueFrom: string, defaultRegion: string): SecretReference {
  if (!valueFrom.startsWith("arn:")) return { kind: "ssm", valueFrom, region: defaultRegion, name: valueFrom };
  const arn = parseArn(valueFrom);
  const service = arn?.service ?? valueFrom.split(":")[2] ?? "";
  const region = arn === undefined || arn.region === "" ? defaultRegion : arn.region;
  const resource = arn?.resource ?? "";
  if (service === "ssm") {
    if (!resource.startsWith("parameter/")) {
      throw new SecretResolutionError(`unable to retrieve secrets from ssm: invalid parameter ARN: ${valueFrom}`, [valueFrom]);
    }
    const path = resource.slice("parameter".length); // "/a/b" or "/name"
    const name = path.indexOf("/", 1) === -1 ? path.slice(1) : path;
    return { kind: "ssm", valueFrom, region, name };
  }
  if (service === "secretsmanager") {
    const resParts = resource.split(":");
    if (resParts.length === 2) {
      return { kind: "secretsmanager", valueFrom, region, secretId: valueFrom, jsonKey: undefined, versionStage: undefined, versionId: undefined };
    }
    if (resParts.length === 5) {
      const opt = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s);
      return {
        kind: "secretsmanager",
        valueFrom,
        region,
        secretId: `arn:${arn!.partition}:${arn!.service}:${arn!.region}:${arn!.accountId}:${resParts[0]}:${resParts[1]}`,
        jsonKey: opt(resParts[2]),
        versionStage: opt(resParts[3]),
        versionId: opt(resParts[4]),
      };
    }
    throw new SecretResolutionError(`unable to retrieve secret from asm: ${ASM_INVALID_ARN}`, [valueFrom]);
  }
  throw new SecretResolutionError(`unsupported secret valueFrom ${valueFrom}: only ssm and secretsmanager ARNs are supported`, [valueFrom]);
}

export interface SecretsResolverOptions {
  clients: AgentAwsClients;
  credentials: RoleCredentialsProvider;
  logger: Logger;
}

export class SecretsResolver {
  readonly #clients: AgentAwsClients;
  readonly #credentials: RoleCredentialsProvider;
  readonly #logger: Logger;

  constructor(options: SecretsResolverOptions) {
    this.#clients = options.clients;
    this.#credentials = options.credentials;
    this.#logger = options.logger;
  }

  /** Env vars from `secrets` and resolved `logConfiguration.secretOptions` of one container. */
  async resolveContainer(def: ContainerSecretsSource, ctx: SecretContext): Promise<{ environment: Record<string, string>; logOptions: Record<string, string> }> {
    const env = def.secrets ?? [];
    const log = def.logConfiguration?.secretOptions ?? [];
    if (env.length === 0 && log.length === 0) return { environment: {}, logOptions: {} };
    const values = await this.resolve([...env, ...log], ctx);
    const pick = (list: readonly SecretRef[]): Record<string, string> =>
      Object.fromEntries(list.map((s) => [s.name, values.get(s.valueFrom) ?? ""]));
    return { environment: pick(env), logOptions: pick(log) };
  }

  /** valueFrom → value for every secret; throws SecretResolutionError on the first failure. */
  async resolve(secrets: readonly SecretRef[], ctx: SecretContext): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (secrets.length === 0) return out;
    const region = ctx.region ?? this.#clients.region;
    const refs = new Map<string, SecretReference>();
    for (const s of secrets) {
      if (typeof s.valueFrom !== "string" || s.valueFrom === "") {
        throw new SecretResolutionError(`secret ${s.name} has an empty valueFrom`, [String(s.valueFrom)]);
      }
      if (!refs.has(s.valueFrom)) refs.set(s.valueFrom, parseSecretReference(s.valueFrom, region));
    }
    let creds: AwsCredentialIdentity;
    try {
      creds = await this.#credentials.executionCredentials(ctx.taskArn, ctx.executionRoleArn);
    } catch (err) {
      throw new SecretResolutionError(
        `unable to get credentials of execution role ${ctx.executionRoleArn ?? "(none)"}: ${describeError(err)}`,
        [...refs.keys()],
      );
    }
    const ssmByRegion = new Map<string, Extract<SecretReference, { kind: "ssm" }>[]>();
    const asm: Extract<SecretReference, { kind: "secretsmanager" }>[] = [];
    for (const ref of refs.values()) {
      if (ref.kind === "ssm") {
        const list = ssmByRegion.get(ref.region) ?? [];
        list.push(ref);
        ssmByRegion.set(ref.region, list);
      } else {
        asm.push(ref);
      }
    }
    const jobs: Promise<void>[] = [];
    for (const [r, list] of ssmByRegion) jobs.push(this.#fetchSsm(r, list, creds, out));
    for (const ref of asm) jobs.push(this.#fetchAsm(ref, creds, out));
    await Promise.all(jobs);
    return out;
  }

  async #fetchSsm(region: string, refs: Extract<SecretReference, { kind: "ssm" }>[], creds: AwsCredentialIdentity, out: Map<string, string>): Promise<void> {
    const names = [...new Set(refs.map((r) => r.name))];
    const found = new Map<string, string>();
    const invalid: string[] = [];
    for (let i = 0; i < names.length; i += 10) {
      const batch = names.slice(i, i + 10);
      let res;
      try {
        res = await (await this.#clients.ssm(region, creds)).getParameters({ Names: batch, WithDecryption: true });
      } catch (err) {
        throw new SecretResolutionError(`unable to retrieve secrets from ssm: service call has been retried 1 time(s): ${describeError(err)}`, batch);
      }
      for (const p of res.Parameters ?? []) {
        if (p.Name === undefined) continue;
        const key = p.Name + (p.Selector ?? "");
        found.set(key, p.Value ?? "");
        // SSM answers "/name" with Name "name" for a root-level parameter.
        if (!key.startsWith("/")) found.set(`/${key}`, p.Value ?? "");
      }
      invalid.push(...(res.InvalidParameters ?? []));
    }
    const missing = names.filter((n) => !found.has(n));
    if (invalid.length > 0 || missing.length > 0) {
      const bad = [...new Set([...invalid, ...missing])];
      throw new SecretResolutionError(`unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid parameters: ${bad.join(", ")}`, bad);
    }
    for (const r of refs) out.set(r.valueFrom, found.get(r.name) ?? "");
  }

  async #fetchAsm(ref: Extract<SecretReference, { kind: "secretsmanager" }>, creds: AwsCredentialIdentity, out: Map<string, string>): Promise<void> {
    const fail = (detail: string): SecretResolutionError =>
      new SecretResolutionError(`unable to retrieve secret from asm: service call has been retried 1 time(s): ${detail}`, [ref.valueFrom]);
    if (ref.versionStage !== undefined && ref.versionId !== undefined) {
      throw fail(`secret ${ref.secretId}: you cannot specify both version-stage and version-id`);
    }
    let res;
    try {
      res = await (await this.#clients.secretsManager(ref.region, creds)).getSecretValue({
        SecretId: ref.secretId,
        ...(ref.versionStage !== undefined ? { VersionStage: ref.versionStage } : {}),
        ...(ref.versionId !== undefined ? { VersionId: ref.versionId } : {}),
      });
    } catch (err) {
      throw fail(`failed to fetch secret ${ref.secretId} from secrets manager: ${describeError(err)}`);
    }
    if (res.SecretString === undefined && res.SecretBinary !== undefined) {
      this.#logger.warn("agent.secrets.binary_secret", {
        secret: ref.secretId,
        message: "the secret has only SecretBinary; ECS injects SecretString, so the value is empty",
      });
    }
    const text = res.SecretString ?? "";
    if (ref.jsonKey === undefined) {
      out.set(ref.valueFrom, text);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, ref.jsonKey)) {
      throw fail(`retrieved secret from Secrets Manager did not contain json key ${ref.jsonKey}`);
    }
    out.set(ref.valueFrom, renderJsonValue((parsed as Record<string, unknown>)[ref.jsonKey]));
  }
}

/** Go `fmt.Sprintf("%v")` of a decoded JSON scalar; objects and arrays as JSON (see the file comment). */
export function renderJsonValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "number") return goFloat(v);
  return JSON.stringify(v);
}

/** Go's %v for float64 is %g with the shortest repr: exponent form when exp < -4 or exp >= 21. */
function goFloat(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 21) {
    const [mant, e] = n.toExponential().split("e");
    const sign = e!.startsWith("-") ? "-" : "+";
    const digits = e!.replace(/^[+-]/, "").padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  return String(n);
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}
