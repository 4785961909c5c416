// The envelope of the events ECS sends to EventBridge ("Amazon ECS events" in the developer guide): source
// `aws.ecs`, one of four detail-types, the resource ARN in `resources`, and a `detail` that resembles the API
// object except that every timestamp is an ISO string rather than epoch seconds.
import { randomUUID } from "node:crypto";
import { parseEcsArn } from "../arns.ts";

export const ECS_EVENT_SOURCE = "aws.ecs";

export const DETAIL_TYPES = {
  taskStateChange: "ECS Task State Change",
  containerInstanceStateChange: "ECS Container Instance State Change",
  serviceAction: "ECS Service Action",
  deploymentStateChange: "ECS Deployment State Change",
} as const;

export type EcsDetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];

/** An event as a rule's target receives it (EventBridge's "AWS service event metadata"). */
export interface EcsEvent {
  /** Always "0" (the envelope's version; the resource's own version is `detail.version`). */
  version: "0";
  id: string;
  "detail-type": EcsDetailType;
  source: typeof ECS_EVENT_SOURCE;
  account: string;
  /** Second precision, e.g. "2020-01-23T17:57:58Z". */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/**
 * The envelope around a detail. Account and region come from the resource's ARN (ECS resources are
 * regional, so the event goes to the bus of the region the resource lives in).
 */
export function ecsEvent(detailType: EcsDetailType, resourceArn: string, detail: Record<string, unknown>, at: Date): EcsEvent {
  const arn = parseEcsArn(resourceArn);
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": detailType,
    source: ECS_EVENT_SOURCE,
    account: arn?.accountId ?? "",
    time: eventTime(at),
    region: arn?.region ?? "",
    resources: [resourceArn],
    detail,
  };
}

/** The envelope's `time`: UTC, whole seconds. */
export function eventTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A timestamp inside `detail`: UTC with milliseconds, trailing zeros dropped as ECS writes them
 * ("2024-11-13T21:22:46.71Z", "2016-12-06T16:41:05.702Z", "2020-05-23T11:11:11Z").
 */
export function detailTime(at: Date): string {
  return at.toISOString().replace(/\.?0+Z$/, "Z");
}

/**
 * A typed API object (Dates for timestamps, as the generated shapes have them) as event JSON: Dates become
 * `detailTime` strings, undefined members are left out, everything else is copied.
 */
export function toDetailJson(value: unknown): unknown {
  if (value instanceof Date) return detailTime(value);
  if (Array.isArray(value)) return value.map(toDetailJson);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = toDetailJson(v);
    return out;
  }
  return value;
}
