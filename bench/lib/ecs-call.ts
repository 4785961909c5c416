import { TARGET_PREFIX } from "./sigv4-headers.ts";

/** Raw awsJson1_1 call (no SDK: its middleware stack would dominate the tight polling loops). */
export async function ecsCall<T = any>(url: string, operation: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `${TARGET_PREFIX}.${operation}`,
      authorization: "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json = text === "" ? {} : JSON.parse(text);
  if (res.status !== 200) throw new Error(`${operation} → ${res.status}: ${text.slice(0, 500)}`);
  return json as T;
}
