// The console's only way to read or change anything: the public ECS JSON API of this same server
// (POST / with X-Amz-Target), exactly as the AWS CLI or an SDK calls it.

const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113";

export const info = JSON.parse(document.getElementById("console-info")?.textContent ?? "{}");

let region = localStorage.getItem("local-ecs-console.region") || info.region || "us-east-1";

export function currentRegion() {
  return region;
}

export function setRegion(value) {
  region = value;
  localStorage.setItem("local-ecs-console.region", value);
}

let cluster = "default";

/** The cluster a view shows: the one in its query, else the last one picked (views share it). */
export function pickCluster(query) {
  cluster = query.get("cluster") || cluster;
  return cluster;
}

/** An error answer of the API: `type` is the exception name (e.g. "ClusterNotFoundException"). */
export class EcsApiError extends Error {
  constructor(type, message, status) {
    super(message);
    this.name = "EcsApiError";
    this.type = type;
    this.status = status;
  }
}

/** Whether this server can answer an operation (emulated, or forwarded to ECS_ENDPOINT_URL). */
export function available(operation) {
  return info.operations?.[operation] !== false;
}

/**
 * Calls one operation. A request the browser could not send (Chromium aborts requests in flight when the
 * host's network interfaces change, which Docker does whenever it makes a network) is sent again: reads and
 * StopTask/UpdateService are idempotent, and RunTask carries a clientToken, so a retry never runs twice.
 */
export async function ecs(operation, input = {}) {
  const body = operation === "RunTask" && input.clientToken === undefined ? { ...input, clientToken: crypto.randomUUID() } : input;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(operation, body);
    } catch (err) {
      if (!(err instanceof EcsApiError) || err.type !== "NetworkError" || attempt === 3) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

async function call(operation, input) {
  let res;
  try {
    res = await fetch("/", {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `${TARGET_PREFIX}.${operation}`,
        // Unsigned, like any SDK pointed at a local endpoint; the credential scope names the region.
        authorization: `AWS4-HMAC-SHA256 Credential=console/20000101/${region}/ecs/aws4_request, SignedHeaders=content-type;host;x-amz-target, Signature=0`,
      },
      body: JSON.stringify(input),
    });
  } catch (err) {
    throw new EcsApiError("NetworkError", `The server did not answer ${operation}: ${err.message}`, 0);
  }
  const text = await res.text();
  let body;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new EcsApiError("SerializationException", `${operation} answered ${res.status} with a body that is not JSON`, res.status);
  }
  if (!res.ok) {
    const type = String(body.__type ?? "Error").split("#").pop();
    throw new EcsApiError(type, body.message ?? body.Message ?? `${operation} failed with HTTP ${res.status}`, res.status);
  }
  return body;
}

/** Every page of a List* operation (bounded, so a huge account cannot hang the page). */
export async function listAll(operation, input, key, max = 2000) {
  const out = [];
  let nextToken;
  do {
    const page = await ecs(operation, { ...input, ...(nextToken ? { nextToken } : {}) });
    out.push(...(page[key] ?? []));
    nextToken = page.nextToken;
  } while (nextToken && out.length < max);
  return out;
}

/** Describe* in chunks of the operation's limit. */
export async function describeChunked(operation, input, listKey, arns, resultKey, chunk) {
  const results = [];
  const failures = [];
  for (let i = 0; i < arns.length; i += chunk) {
    const page = await ecs(operation, { ...input, [listKey]: arns.slice(i, i + chunk) });
    results.push(...(page[resultKey] ?? []));
    failures.push(...(page.failures ?? []));
  }
  return { results, failures };
}

export function describeTasks(cluster, taskArns) {
  return describeChunked("DescribeTasks", { cluster }, "tasks", taskArns, "tasks", 100);
}

/** Cluster names, "default" first (for the cluster pickers). */
export async function clusterNames() {
  const arns = await listAll("ListClusters", {}, "clusterArns");
  const names = arns.map((a) => a.slice(a.indexOf(":cluster/") + 9)).sort();
  return ["default", ...names.filter((n) => n !== "default")];
}
