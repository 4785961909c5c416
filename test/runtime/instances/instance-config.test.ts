import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../src/runtime/config.ts";
import {
  defaultInstanceSpecs,
  normaliseEngineUrl,
  parseContainerInstancesEnv,
  parseContainerInstancesYaml,
} from "../../../src/runtime/instances/instance-config.ts";

describe("CONTAINER_INSTANCES", () => {
  it("defaults to the local engine (DOCKER_HOST) as an instance of every cluster", () => {
    expect(loadConfig({}).containerInstances).toEqual({ kind: "default" });
    expect(defaultInstanceSpecs(undefined)).toEqual([{ key: "*=unix:///var/run/docker.sock", cluster: "*", engine: { url: "unix:///var/run/docker.sock" } }]);
    expect(defaultInstanceSpecs("tcp://docker:2375")[0]!.engine.url).toBe("tcp://docker:2375");
  });

  it.each([
    ["/var/run/docker.sock", "unix:///var/run/docker.sock"],
    ["unix:///run/podman/podman.sock", "unix:///run/podman/podman.sock"],
    ["tcp://10.0.0.5", "tcp://10.0.0.5:2375"],
    ["https://10.0.0.5", "tcp://10.0.0.5:2376"],
    ["tcp://host:12375", "tcp://host:12375"],
    ["ssh://ci@builder", "ssh://ci@builder"],
    ["ssh://ci@builder:2222", "ssh://ci@builder:2222"],
  ])("normalises %s", (raw, url) => {
    expect(normaliseEngineUrl(raw)).toBe(url);
  });

  it("parses the compact form with options; repeated cluster=engine pairs are distinct instances", () => {
    const setting = parseContainerInstancesEnv(
      "default=unix:///var/run/docker.sock?cpu=2048&memory=1024&az=us-east-1b, default=unix:///var/run/docker.sock,ci=tcp://h:2376?tls=1&ca=/c/ca.pem&cert=/c/cert.pem&key=/c/key.pem&capacityProvider=cp",
    );
    expect(setting).toEqual({
      kind: "list",
      instances: [
        { key: "default=unix:///var/run/docker.sock", cluster: "default", engine: { url: "unix:///var/run/docker.sock" }, cpu: 2048, memory: 1024, availabilityZone: "us-east-1b" },
        { key: "default=unix:///var/run/docker.sock#1", cluster: "default", engine: { url: "unix:///var/run/docker.sock" } },
        {
          key: "ci=tcp://h:2376",
          cluster: "ci",
          engine: { url: "tcp://h:2376", tls: { verify: true, ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem" } },
          capacityProvider: "cp",
        },
      ],
    });
  });

  it("takes a value without '=' as the path of a YAML file", () => {
    expect(parseContainerInstancesEnv("/etc/local-ecs/instances.yaml")).toEqual({ kind: "file", path: "/etc/local-ecs/instances.yaml" });
  });

  it("parses the YAML form", () => {
    const specs = parseContainerInstancesYaml(`
instances:
  - clusters: [a, b]
    engine: tcp://10.0.0.7:2376
    tls: { ca: /c/ca.pem, cert: /c/cert.pem, key: /c/key.pem }
    memory: 4096
    attributes: { color: blue }
  - engine: unix:///run/podman/podman.sock
`);
    expect(specs.map((s) => [s.key, s.cluster, s.engine.url, s.memory, s.attributes])).toEqual([
      ["a=tcp://10.0.0.7:2376", "a", "tcp://10.0.0.7:2376", 4096, { color: "blue" }],
      ["b=tcp://10.0.0.7:2376", "b", "tcp://10.0.0.7:2376", 4096, { color: "blue" }],
      ["*=unix:///run/podman/podman.sock", "*", "unix:///run/podman/podman.sock", undefined, undefined],
    ]);
    expect(specs[0]!.engine.tls).toEqual({ ca: "/c/ca.pem", cert: "/c/cert.pem", key: "/c/key.pem", verify: true });
  });

  it.each([
    ["default=ftp://x", "unsupported scheme"],
    ["bad name!=unix:///s", "invalid cluster name"],
    ["default=unix:///s?cpus=2", 'unknown option "cpus"'],
    ["default=unix:///s?memory=-1", "positive integer"],
    ["=unix:///s", "must be cluster=engine-url"],
  ])("refuses %s", (raw, message) => {
    expect(() => loadConfig({ CONTAINER_INSTANCES: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ CONTAINER_INSTANCES: raw })).toThrow(message);
  });

  it("refuses a YAML file without instances", () => {
    expect(() => parseContainerInstancesYaml("instances: []", "f.yaml")).toThrow("f.yaml: expected");
    expect(() => parseContainerInstancesYaml("instances: [{cluster: 'x y'}]", "f.yaml")).toThrow("invalid cluster name");
  });
});
