import { describe, expect, it } from "vitest";
import { containerInstanceStateChangeEvent } from "../../../src/runtime/events/container-instance-state-change.ts";
import { deploymentStateChangeEvent, serviceActionEvent } from "../../../src/runtime/events/service-events.ts";

const SERVICE = "arn:aws:ecs:us-west-2:111122223333:service/default/servicetest";
const CLUSTER = "arn:aws:ecs:us-west-2:111122223333:cluster/default";

// The examples of the developer guide ("Amazon ECS service action events", "… deployment state change events",
// "… container instance state change events"), minus the id the bus assigns.
describe("service and container instance event builders", () => {
  it("ECS Service Action: SERVICE_STEADY_STATE", () => {
    const e = serviceActionEvent({ serviceArn: SERVICE, clusterArn: CLUSTER, eventName: "SERVICE_STEADY_STATE", at: new Date("2019-11-19T19:27:22.695Z") });
    expect({ ...e, id: undefined }).toEqual({
      version: "0",
      id: undefined,
      "detail-type": "ECS Service Action",
      source: "aws.ecs",
      account: "111122223333",
      time: "2019-11-19T19:27:22Z",
      region: "us-west-2",
      resources: [SERVICE],
      detail: { eventType: "INFO", eventName: "SERVICE_STEADY_STATE", clusterArn: CLUSTER, createdAt: "2019-11-19T19:27:22.695Z" },
    });
  });

  it("ECS Service Action: SERVICE_TASK_PLACEMENT_FAILURE is an ERROR with its reason and capacity providers", () => {
    const e = serviceActionEvent({
      serviceArn: SERVICE,
      clusterArn: CLUSTER,
      eventName: "SERVICE_TASK_PLACEMENT_FAILURE",
      reason: "RESOURCE:FARGATE",
      capacityProviderArns: ["arn:aws:ecs:us-west-2:111122223333:capacity-provider/FARGATE_SPOT"],
      at: new Date("2019-11-06T19:09:33.087Z"),
    });
    expect(e.detail).toEqual({
      eventType: "ERROR",
      eventName: "SERVICE_TASK_PLACEMENT_FAILURE",
      clusterArn: CLUSTER,
      capacityProviderArns: ["arn:aws:ecs:us-west-2:111122223333:capacity-provider/FARGATE_SPOT"],
      reason: "RESOURCE:FARGATE",
      createdAt: "2019-11-06T19:09:33.087Z",
    });
  });

  it("ECS Deployment State Change: in progress, completed, failed", () => {
    const at = new Date("2020-05-23T11:11:11Z");
    const base = { serviceArn: SERVICE, deploymentId: "ecs-svc/123", at };
    expect(deploymentStateChangeEvent({ ...base, eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS" }).detail).toEqual({
      eventType: "INFO",
      eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS",
      deploymentId: "ecs-svc/123",
      updatedAt: "2020-05-23T11:11:11Z",
      reason: "ECS deployment ecs-svc/123 in progress.",
    });
    expect(deploymentStateChangeEvent({ ...base, eventName: "SERVICE_DEPLOYMENT_COMPLETED" }).detail).toMatchObject({ eventType: "INFO", reason: "ECS deployment ecs-svc/123 completed." });
    const failed = deploymentStateChangeEvent({ ...base, eventName: "SERVICE_DEPLOYMENT_FAILED" });
    expect(failed["detail-type"]).toBe("ECS Deployment State Change");
    expect(failed.resources).toEqual([SERVICE]);
    expect(failed.detail).toMatchObject({ eventType: "ERROR", reason: "ECS deployment circuit breaker: task failed to start." });
  });

  it("ECS Container Instance State Change: the instance plus its cluster and updatedAt, no tags", () => {
    const arn = "arn:aws:ecs:us-east-1:111122223333:container-instance/default/b54a2a04046f43319d743f6d7f6ca315";
    const e = containerInstanceStateChangeEvent(
      {
        containerInstanceArn: arn,
        ec2InstanceId: "i-f3a8506b",
        status: "ACTIVE",
        agentConnected: true,
        version: 14801,
        registeredResources: [{ name: "CPU", type: "INTEGER", integerValue: 2048 }],
        remainingResources: [{ name: "CPU", type: "INTEGER", integerValue: 1988 }],
        versionInfo: { agentHash: "aebcbca", agentVersion: "1.13.0", dockerVersion: "DockerVersion: 1.11.2" },
        registeredAt: new Date("2016-12-06T16:40:00Z"),
        tags: [{ key: "a", value: "b" }],
      },
      "arn:aws:ecs:us-east-1:111122223333:cluster/default",
      new Date("2016-12-06T16:41:06.991Z"),
    );
    expect(e).toMatchObject({ "detail-type": "ECS Container Instance State Change", region: "us-east-1", account: "111122223333", resources: [arn], time: "2016-12-06T16:41:06Z" });
    expect(e.detail).toEqual({
      containerInstanceArn: arn,
      ec2InstanceId: "i-f3a8506b",
      status: "ACTIVE",
      agentConnected: true,
      version: 14801,
      registeredResources: [{ name: "CPU", type: "INTEGER", integerValue: 2048 }],
      remainingResources: [{ name: "CPU", type: "INTEGER", integerValue: 1988 }],
      versionInfo: { agentHash: "aebcbca", agentVersion: "1.13.0", dockerVersion: "DockerVersion: 1.11.2" },
      registeredAt: "2016-12-06T16:40:00Z",
      clusterArn: "arn:aws:ecs:us-east-1:111122223333:cluster/default",
      updatedAt: "2016-12-06T16:41:06.991Z",
    });
  });
});
