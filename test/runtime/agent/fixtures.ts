// A task snapshot shaped like the one the engine will hand to the metadata builders.
import type { MetadataContainer, TaskMetadataSnapshot } from "../../../src/runtime/agent/metadata.ts";

export const TASK_ARN = "arn:aws:ecs:us-west-2:111122223333:task/default/8f03e41243824aea923aca126495f665";

export function curlContainer(overrides: Partial<MetadataContainer> = {}): MetadataContainer {
  return {
    name: "curl",
    dockerId: "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66",
    dockerName: "ecs-curltest-24-curl-cca48e8dcadd97805600",
    image: "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest",
    imageId: "sha256:d691691e9652791a60114e67b365688d20d19940dde7c4736ea30e660d8d3553",
    labels: {
      "com.amazonaws.ecs.cluster": "default",
      "com.amazonaws.ecs.container-name": "curl",
      "com.amazonaws.ecs.task-arn": TASK_ARN,
      "com.amazonaws.ecs.task-definition-family": "curltest",
      "com.amazonaws.ecs.task-definition-version": "24",
    },
    knownStatus: "RUNNING",
    desiredStatus: "RUNNING",
    createdAt: "2020-10-02T00:15:07.620912337Z",
    startedAt: new Date("2020-10-02T00:15:08.062Z"),
    networks: [{ networkMode: "bridge", ipv4Addresses: ["172.17.0.2"], ipv6Addresses: [] }],
    ports: [{ containerPort: 80, hostPort: 49153, protocol: "tcp", hostIp: "0.0.0.0" }],
    volumes: [],
    logDriver: "awslogs",
    logOptions: {
      "awslogs-create-group": "true",
      "awslogs-group": "/ecs/metadata",
      "awslogs-region": "us-west-2",
      "awslogs-stream-prefix": "ecs",
    },
    containerArn: "arn:aws:ecs:us-west-2:111122223333:container/0206b271-b33f-47ab-86c6-a0ba208a70a9",
    limits: { cpu: 10, memory: 128 },
    ...overrides,
  };
}

export function snapshot(overrides: Partial<TaskMetadataSnapshot> = {}): TaskMetadataSnapshot {
  return {
    task: {
      taskArn: TASK_ARN,
      clusterArn: "arn:aws:ecs:us-west-2:111122223333:cluster/default",
      desiredStatus: "RUNNING",
      lastStatus: "RUNNING",
      launchType: "EC2",
      cpu: "256",
      memory: "512",
      pullStartedAt: new Date("2020-10-02T00:43:06.202Z"),
      pullStoppedAt: new Date("2020-10-02T00:43:06.310Z"),
      availabilityZone: "us-west-2d",
      group: "service:MyService",
      tags: [{ key: "team", value: "blue" }],
    },
    taskDefinition: { family: "curltest", revision: 24, cpu: "256", memory: "512" },
    containers: [curlContainer()],
    clusterName: "default",
    ...overrides,
  };
}
