import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

export const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113";

/**
 * Headers an AWS SDK would send for one awsJson1_1 call, signed once. The emulator reads the region and
 * access key from the Authorization header but does not verify signatures, so wrk may replay them.
 */
export async function signedHeaders(url: string, operation: string, body: string): Promise<Record<string, string>> {
  const u = new URL(url);
  const signer = new SignatureV4({
    service: "ecs",
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-secret" },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: u.protocol,
    hostname: u.hostname,
    ...(u.port === "" ? {} : { port: Number(u.port) }),
    path: "/",
    headers: {
      host: u.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `${TARGET_PREFIX}.${operation}`,
      "x-amz-user-agent": "local-ecs-api-bench",
    },
    body,
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k] = String(v);
  return out;
}
