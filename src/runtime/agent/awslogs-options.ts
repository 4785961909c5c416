// awslogs option rules shared by the shipper and the metadata endpoint: the ECS backend turns
// `awslogs-stream-prefix` into an explicit `awslogs-stream` of `<prefix>/<container-name>/<task-id>`;
// without a prefix the stream is the Docker container id (what Docker's awslogs driver uses).

import { taskIdOf } from "../arns.ts";

export interface AwsLogsTarget {
  group: string;
  stream: string;
  region: string | undefined;
  createGroup: boolean;
}


export function awslogsStreamName(options: Readonly<Record<string, string>>, containerName: string, taskArn: string, dockerId: string): string {
  const explicit = options["awslogs-stream"];
  if (explicit !== undefined && explicit !== "") return explicit;
  const prefix = options["awslogs-stream-prefix"];
  if (prefix !== undefined && prefix !== "") return `${prefix}/${containerName}/${taskIdOf(taskArn)}`;
  return dockerId;
}

/** The options as the agent reports them in TMDS v4: the prefix replaced by the explicit stream. */
export function effectiveAwslogsOptions(options: Readonly<Record<string, string>>, containerName: string, taskArn: string, dockerId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) if (k !== "awslogs-stream-prefix") out[k] = v;
  if (options["awslogs-stream-prefix"] !== undefined && options["awslogs-stream-prefix"] !== "") {
    out["awslogs-stream"] = awslogsStreamName(options, containerName, taskArn, dockerId);
  }
  return out;
}

export function awslogsTarget(options: Readonly<Record<string, string>>, containerName: string, taskArn: string, dockerId: string): AwsLogsTarget {
  const group = options["awslogs-group"];
  if (group === undefined || group === "") throw new Error("awslogs: the awslogs-group option is required");
  return {
    group,
    stream: awslogsStreamName(options, containerName, taskArn, dockerId),
    region: options["awslogs-region"] === "" ? undefined : options["awslogs-region"],
    createGroup: options["awslogs-create-group"] === "true",
  };
}
