/**
 * The upstream ECS endpoint (`ECS_ENDPOINT_URL`): operations we do not emulate are forwarded to it, and
 * task definitions we do not hold are looked up there (the original project's behaviour).
 */
export interface Upstream {
  readonly url: string;
  /**
   * Calls one operation with a wire-JSON input and returns the parsed wire-JSON output.
   * Throws the upstream's own error as an `EcsError` (same `__type` and message), or a
   * `ServerException`-class error when the upstream is unreachable or too slow. `region`: the caller's
   * (what the request is signed for, unless ECS_ENDPOINT_AWS_REGION is set); default the configured one.
   */
  call(operation: string, input: unknown, region?: string): Promise<unknown>;
}
