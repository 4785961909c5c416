import { InvalidParameterException, ServerException } from "../../generated/errors.ts";
import type { LoadBalancer, TaskDefinition } from "../../generated/shapes.ts";
import type { TargetGroupInfo, TargetGroups } from "../runtime/services/aws/target-groups.ts";

/**
 * With ELBV2_ENDPOINT_URL set, CreateService / UpdateService / CreateTaskSet check each target group as
 * ECS does, with its words: it must exist (ECS cannot tell a missing one from one its role may not read),
 * be attached to a load balancer, and have the target type the network mode needs (awsvpc → ip, bridge
 * and host → instance). Without an endpoint only the task definition checks apply (checkLoadBalancers).
 */
export async function checkTargetGroups(targetGroups: TargetGroups | undefined, loadBalancers: readonly LoadBalancer[], td: TaskDefinition): Promise<void> {
  if (targetGroups === undefined) return;
  const mode = td.networkMode ?? "bridge";
  for (const lb of loadBalancers) {
    const arn = lb.targetGroupArn;
    if (arn === undefined) continue;
    let info: TargetGroupInfo | undefined;
    try {
      info = await targetGroups.describe(arn);
    } catch (err) {
      throw new ServerException(`Could not validate the target group ${arn} at ELBV2_ENDPOINT_URL: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (info === undefined) {
      throw new InvalidParameterException(
        "Unable to assume role and validate the specified targetGroupArn. Please verify that the ECS service role being passed has the proper permissions.",
      );
    }
    if (info.loadBalancerArns.length === 0) {
      throw new InvalidParameterException(`The target group with targetGroupArn ${arn} does not have an associated load balancer.`);
    }
    if ((mode === "awsvpc") !== (info.targetType === "ip")) {
      throw new InvalidParameterException(
        `The provided target group ${arn} has target type ${info.targetType}, which is incompatible with the ${mode} network mode specified in the task definition.`,
      );
    }
  }
}
