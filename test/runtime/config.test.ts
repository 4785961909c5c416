import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/runtime/config.ts";

describe("loadConfig: ECS events", () => {
  it("is off without EVENTS_ENDPOINT_URL, on the default bus", () => {
    const c = loadConfig({});
    expect(c.eventsEndpointUrl).toBeUndefined();
    expect(c.eventsBusName).toBe("default");
  });

  it("takes an http(s) endpoint and a bus", () => {
    const c = loadConfig({ EVENTS_ENDPOINT_URL: "http://localhost:4566", EVENTS_BUS_NAME: "ecs-bus" });
    expect(c.eventsEndpointUrl).toBe("http://localhost:4566");
    expect(c.eventsBusName).toBe("ecs-bus");
  });

  it("refuses an endpoint that is not a URL, naming the variable", () => {
    expect(() => loadConfig({ EVENTS_ENDPOINT_URL: "localhost:4566" })).toThrow(ConfigError);
    expect(() => loadConfig({ EVENTS_ENDPOINT_URL: "not a url" })).toThrow(/EVENTS_ENDPOINT_URL must be an http\(s\) URL/);
  });
});

describe("loadConfig: web console", () => {
  it("is on by default; CONSOLE=false (or 0, no, off) turns it off", () => {
    expect(loadConfig({}).console).toBe(true);
    for (const off of ["false", "0", "no", "off", "FALSE"]) expect(loadConfig({ CONSOLE: off }).console).toBe(false);
    expect(loadConfig({ CONSOLE: "true" }).console).toBe(true);
  });

  it("refuses anything else, naming the variable", () => {
    expect(() => loadConfig({ CONSOLE: "maybe" })).toThrow(/CONSOLE must be true or false; got "maybe"/);
  });
});

describe("loadConfig: ELBv2 and Cloud Map for services", () => {
  it("records load balancers and registries only without endpoints; takes http(s) URLs, naming a bad one", () => {
    expect(loadConfig({})).toMatchObject({ elbv2EndpointUrl: undefined, serviceDiscoveryEndpointUrl: undefined });
    expect(loadConfig({ ELBV2_ENDPOINT_URL: "http://127.0.0.1:5000", SERVICE_DISCOVERY_ENDPOINT_URL: "https://sd.local" })).toMatchObject({
      elbv2EndpointUrl: "http://127.0.0.1:5000",
      serviceDiscoveryEndpointUrl: "https://sd.local",
    });
    expect(() => loadConfig({ ELBV2_ENDPOINT_URL: "moto:5000" })).toThrow(/ELBV2_ENDPOINT_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ SERVICE_DISCOVERY_ENDPOINT_URL: "x" })).toThrow(/SERVICE_DISCOVERY_ENDPOINT_URL must be an http\(s\) URL/);
  });
});
