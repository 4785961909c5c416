// The awsvpc pause container: it holds the task's network namespace (and publishes the task's ports);
// every container of the task joins it with NetworkMode container:<id>, as the agent's pause container.
import type Dockerode from "dockerode";
import type { ContainerDefinition } from "../../../../generated/shapes.ts";
import { ECS_LABELS, NETWORK_HOLDER_NAME } from "../task-backend.ts";
import type { ContainerRuntime } from "./container-runtime.ts";
import { portBindingsFor } from "./docker-mapping.ts";
import type { ImagePuller } from "./image-puller.ts";

/** How to run the pause container: an image and, for non-pause images, a command that idles. */
export interface PauseSpec {
  image: string;
  entrypoint?: string[];
  cmd?: string[];
}

const KNOWN_PAUSE_IMAGES: PauseSpec[] = [{ image: "amazon/amazon-ecs-pause:0.1.0" }, { image: "registry.k8s.io/pause:3.9" }];

/**
 * The configured spec (pulled if needed), else the first pause image present locally, else the task's own
 * first image idling with `sleep`: no pause image can be pulled offline, and any image with a sleep binary
 * holds a namespace as well.
 */
export async function choosePauseSpec(runtime: ContainerRuntime, images: ImagePuller, configured: PauseSpec | undefined, taskImage: string): Promise<PauseSpec> {
  if (configured !== undefined) {
    await images.ensure(configured.image);
    return configured;
  }
  for (const candidate of KNOWN_PAUSE_IMAGES) {
    if (await runtime.imageExists(candidate.image)) return candidate;
  }
  await images.ensure(taskImage);
  return { image: taskImage, entrypoint: ["sleep"], cmd: ["2147483647"] };
}

export function pauseCreateOptions(input: {
  spec: PauseSpec;
  name: string;
  /** The task's containers: the pause container publishes all of their ports. */
  definitions: readonly ContainerDefinition[];
  network: string | undefined;
  extraHosts: string[];
  macAddress: string | undefined;
  labels: Record<string, string>;
}): Dockerode.ContainerCreateOptions {
  const { spec } = input;
  const ports = portBindingsFor(input.definitions);
  const options: Dockerode.ContainerCreateOptions = {
    name: input.name,
    Image: spec.image,
    Labels: { ...input.labels, [ECS_LABELS.containerName]: NETWORK_HOLDER_NAME },
    ExposedPorts: ports.ExposedPorts,
    HostConfig: {
      NetworkMode: input.network ?? "bridge",
      PortBindings: ports.PortBindings,
      ExtraHosts: input.extraHosts,
      // `sleep` as PID 1 ignores SIGTERM: an init reaps and forwards signals.
      Init: spec.entrypoint !== undefined,
    },
  };
  if (input.macAddress !== undefined) options.MacAddress = input.macAddress;
  if (spec.entrypoint !== undefined) options.Entrypoint = spec.entrypoint;
  if (spec.cmd !== undefined) options.Cmd = spec.cmd;
  return options;
}
