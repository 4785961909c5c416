// Makes images present on the Docker engine: one pull per image at a time, however many tasks wait for
// it, with the progress worth reading in the log.
import type { Logger } from "../../logger.ts";
import type { ContainerRuntime } from "./container-runtime.ts";

export class ImagePuller {
  readonly #runtime: ContainerRuntime;
  readonly #logger: Logger;
  readonly #pulls = new Map<string, Promise<void>>();

  constructor(runtime: ContainerRuntime, logger: Logger) {
    this.#runtime = runtime;
    this.#logger = logger;
  }

  /** Resolves once the image is present; rejects with the registry's message when the pull failed. */
  async ensure(image: string): Promise<void> {
    if (await this.#runtime.imageExists(image)) return;
    await this.pull(image);
  }

  /** Pulls the image, joining a pull of the same image already under way. */
  pull(image: string): Promise<void> {
    let pull = this.#pulls.get(image);
    if (pull === undefined) {
      const log = this.#logger.child({ image });
      log.info("image-pull-started");
      // Layer state changes (Pulling fs layer, Download complete, Pull complete …) are worth an info
      // line each; the byte-level progress bars are only for debug.
      const lastStatus = new Map<string, string>();
      pull = this.#runtime
        .pullImage(image, (p) => {
          const key = p.id ?? "";
          if (p.status !== undefined && lastStatus.get(key) !== p.status) {
            lastStatus.set(key, p.status);
            log.info("image-pull-progress", { layer: p.id, status: p.status });
          } else log.debug("image-pull-progress", { layer: p.id, status: p.status, progress: p.progress });
        })
        .then(() => log.info("image-pull-finished"))
        .finally(() => this.#pulls.delete(image));
      this.#pulls.set(image, pull);
    }
    return pull;
  }
}
