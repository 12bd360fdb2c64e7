import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configKeys } from "../../src/app/config/config.schema.ts";

// No Docker engine on our machines: the compose file is checked for its
// structure, the parts the README promises, and the gateway's settings.

interface Service {
  command?: string[];
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: string[];
}

const root = join(import.meta.dirname, "../..");
const compose = parse(readFileSync(join(root, "observability/compose.yaml"), "utf8")) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

describe("observability/compose.yaml", () => {
  it("runs Jaeger all-in-one with the OTLP receivers on and the UI published", () => {
    const jaeger = compose.services.jaeger!;
    expect(jaeger.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/);
    expect(jaeger.environment?.COLLECTOR_OTLP_ENABLED).toBe("true");
    expect(jaeger.ports).toEqual(expect.arrayContaining(["16686:16686", "4318:4318"]));
  });

  it("runs the Firestore emulator", () => {
    const firestore = compose.services.firestore!;
    expect(firestore.command ?? firestore.image).toBeDefined();
    expect(JSON.stringify(firestore)).toMatch(/emulators firestore start|"emulators","firestore","start"/);
  });

  it("builds the gateway from the repository's Dockerfile and points it at both", () => {
    const gateway = compose.services.gateway!;
    expect(gateway.build?.dockerfile).toBe("Dockerfile");
    expect(
      readFileSync(join(root, "observability", gateway.build!.context, gateway.build!.dockerfile), "utf8"),
    ).toMatch(/src\/main\.ts/);
    expect(gateway.depends_on).toEqual(expect.arrayContaining(["jaeger", "firestore"]));
    const env = gateway.environment!;
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://jaeger:4318");
    expect(["http/protobuf", "http/json"]).toContain(env.OTEL_EXPORTER_OTLP_PROTOCOL);
    expect(env.FIRESTORE_EMULATOR_HOST).toMatch(/^firestore:\d+$/);
    expect(env.FIRESTORE_AUTH_STATE_MODE).toBe("full");
    expect(env.HOST).toBe("0.0.0.0");
  });

  it("builds an image that applies our dependency patches when it installs", () => {
    const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
    const patches = dockerfile.indexOf("COPY patches ./patches");
    expect(patches).toBeGreaterThan(-1);
    expect(patches).toBeLessThan(dockerfile.indexOf("RUN npm ci"));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(pkg.scripts.postinstall).toMatch(/^patch-package\b/);
    // The image installs with --omit=dev: the tool must be a dependency.
    expect(pkg.dependencies["patch-package"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("sets only variables the gateway reads (or standard OTEL_* ones)", () => {
    const unknown = Object.keys(compose.services.gateway!.environment!).filter(
      (k) => !configKeys.includes(k) && !k.startsWith("OTEL_"),
    );
    expect(unknown).toEqual([]);
  });
});
