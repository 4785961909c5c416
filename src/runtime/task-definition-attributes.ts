// The container-instance attributes a task definition requires (requiresAttributes): what an instance's
// agent must support to run it, as ECS derives them at registration; placement matches them. Pure.
import type { Attribute, RegisterTaskDefinitionRequest } from "../../generated/shapes.ts";

/** A plausible subset of the container-instance attributes real ECS derives from a definition. */
export function requiresAttributes(input: RegisterTaskDefinitionRequest): Attribute[] {
  const names = new Set<string>();
  const valued: Attribute[] = [];
  const add = (name: string): void => {
    names.add(name);
  };
  const containers = input.containerDefinitions;
  add("com.amazonaws.ecs.capability.docker-remote-api.1.18");
  if (input.networkMode === "awsvpc") add("ecs.capability.task-eni");
  if (nonEmpty(input.taskRoleArn)) add("com.amazonaws.ecs.capability.task-iam-role");
  const hasExecutionRole = nonEmpty(input.executionRoleArn);
  for (const c of containers) {
    const driver = c.logConfiguration?.logDriver;
    if (driver !== undefined && driver !== "awsfirelens") add(`com.amazonaws.ecs.capability.logging-driver.${driver}`);
    if (driver === "awslogs") {
      add("com.amazonaws.ecs.capability.docker-remote-api.1.19");
      if (hasExecutionRole) add("ecs.capability.execution-role-awslogs");
    }
    if (hasExecutionRole && c.image !== undefined && /\.dkr\.ecr\.[^/]+\.amazonaws\.com/.test(c.image)) {
      add("ecs.capability.execution-role-ecr-pull");
      add("com.amazonaws.ecs.capability.ecr-auth");
    }
    for (const s of [...(c.secrets ?? []), ...(c.logConfiguration?.secretOptions ?? [])]) {
      const asm = s.valueFrom.includes(":secretsmanager:");
      const isLogSecret = c.logConfiguration?.secretOptions?.includes(s) === true;
      const store = asm ? "asm" : "ssm";
      add(isLogSecret ? `ecs.capability.secrets.${store}.bootstrap.log-driver` : `ecs.capability.secrets.${store}.environment-variables`);
    }
    if (c.memoryReservation !== undefined) add("com.amazonaws.ecs.capability.docker-remote-api.1.21");
    if (c.healthCheck !== undefined) add("ecs.capability.container-health-check");
    if ((c.dependsOn ?? []).length > 0) add("ecs.capability.container-ordering");
    if (c.repositoryCredentials !== undefined) add("com.amazonaws.ecs.capability.private-registry-authentication.secretsmanager");
    if ((c.environmentFiles ?? []).length > 0) add("ecs.capability.env-files.s3");
    if (c.firelensConfiguration !== undefined) add(`ecs.capability.firelens.${c.firelensConfiguration.type}`);
    if (c.linuxParameters?.initProcessEnabled === true) add("com.amazonaws.ecs.capability.docker-remote-api.1.25");
    if (c.restartPolicy?.enabled === true) add("ecs.capability.container-restart-policy");
  }
  for (const v of input.volumes ?? []) {
    if (v.dockerVolumeConfiguration !== undefined) {
      add(`ecs.capability.docker-plugin.${v.dockerVolumeConfiguration.driver ?? "local"}`);
    }
    if (v.efsVolumeConfiguration !== undefined) {
      add("ecs.capability.efs");
      if (v.efsVolumeConfiguration.authorizationConfig !== undefined) add("ecs.capability.efsAuth");
    }
  }
  if (input.runtimePlatform?.cpuArchitecture === "ARM64") valued.push({ name: "ecs.cpu-architecture", value: "arm64" });
  return [...[...names].map((name) => ({ name })), ...valued];
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}
