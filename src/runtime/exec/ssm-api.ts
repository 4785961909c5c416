import type { ExecSessions } from "./exec-sessions.ts";

/** The X-Amz-Target prefix of the SSM calls the session-manager-plugin sends to the ECS endpoint. */
export const SSM_TARGET_PREFIX = "AmazonSSM";

export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * The two SSM calls the plugin makes against the endpoint it was given (ours) when something goes
 * wrong: ResumeSession after its socket died, TerminateSession when its input is never acknowledged.
 * A socket that dies ends our session (its command is killed), so ResumeSession answers without a
 * token and the plugin says "Session: … timed out." and exits cleanly.
 */
export function ssmApi(sessions: ExecSessions): { prefix: string; handle(target: string, body: Buffer): Promise<JsonAnswer> } {
  return {
    prefix: SSM_TARGET_PREFIX,
    async handle(target, body) {
      const operation = target.slice(target.indexOf(".") + 1);
      let input: unknown;
      try {
        input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch {
        return error(400, "SerializationException", "Malformed JSON in the request body");
      }
      const sessionId = typeof input === "object" && input !== null ? (input as Record<string, unknown>)["SessionId"] : undefined;
      switch (operation) {
        case "ResumeSession":
        case "TerminateSession":
          if (typeof sessionId !== "string" || sessionId === "") {
            return error(400, "ValidationException", "1 validation error detected: Value null at 'sessionId' failed to satisfy constraint: Member must not be null");
          }
          if (operation === "TerminateSession") sessions.terminate(sessionId);
          return { status: 200, body: { SessionId: sessionId } };
        default:
          return error(400, "UnknownOperationException", `${operation} is not served by local-ecs-api (only ResumeSession and TerminateSession, for ECS Exec)`);
      }
    },
  };
}

function error(status: number, type: string, message: string): JsonAnswer {
  return { status, body: { __type: type, message } };
}
