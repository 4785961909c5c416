import type { EcsOperations } from "../../generated/operations.ts";
import { AccessDeniedException } from "../../generated/errors.ts";
import type { OperationContext, OperationDeps } from "./context.ts";

/**
 * The operations only the ECS container agent calls. local-ecs-api is the agent of its own instances, so
 * an outside caller gets what the API reference tells it: DiscoverPollEndpoint answers with the region's
 * endpoints (a lookup any caller may make), while state changes are refused — they would contradict what
 * the engine observes of the real containers.
 */
const AGENT_ONLY = "This action is only used by the Amazon ECS agent, and it is not intended for use outside of the agent.";

export function agentOnlyOperations(_deps: OperationDeps): Partial<EcsOperations<OperationContext>> {
  return {
    async discoverPollEndpoint(_input, ctx) {
      return {
        endpoint: `https://ecs-a-1.${ctx.region}.amazonaws.com/`,
        telemetryEndpoint: `https://ecs-t-1.${ctx.region}.amazonaws.com/`,
        serviceConnectEndpoint: `https://ecs-sc.${ctx.region}.api.aws`,
      };
    },
    async submitTaskStateChange() {
      throw new AccessDeniedException(AGENT_ONLY);
    },
    async submitContainerStateChange() {
      throw new AccessDeniedException(AGENT_ONLY);
    },
    async submitAttachmentStateChanges() {
      throw new AccessDeniedException(AGENT_ONLY);
    },
  };
}
