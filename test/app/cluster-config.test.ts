import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";

const problems = (env: Record<string, string>): readonly string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("cluster settings", () => {
  it("default to one process, an id of host name and pid, and 15 s leases", () => {
    const config = loadConfig({});
    expect(config.CLUSTER_MODE).toBe("off");
    expect(config.INSTANCE_ID).toBe(`${hostname().replace(/[^A-Za-z0-9.-]/g, "-")}-${process.pid}`);
    expect(config.SESSION_LEASE_MS).toBe(15_000);
  });

  it("take an explicit id and lease time", () => {
    const config = loadConfig({
      CLUSTER_MODE: "firestore",
      FIRESTORE_PROJECT_ID: "p",
      INSTANCE_ID: "gw-1.zone-a:7",
      SESSION_LEASE_MS: "20000",
    });
    expect(config).toMatchObject({ CLUSTER_MODE: "firestore", INSTANCE_ID: "gw-1.zone-a:7", SESSION_LEASE_MS: 20_000 });
  });

  it("name each bad value: a cluster without a project, an id Firestore cannot hold, a lease under a second", () => {
    const found = problems({ CLUSTER_MODE: "firestore", INSTANCE_ID: "a/b", SESSION_LEASE_MS: "500" });
    expect(found).toHaveLength(3);
    expect(found.join("\n")).toMatch(/FIRESTORE_PROJECT_ID: is required when CLUSTER_MODE=firestore/);
    expect(found.join("\n")).toMatch(/INSTANCE_ID: must be 1-128 letters/);
    expect(found.join("\n")).toMatch(/SESSION_LEASE_MS: /);
    expect(problems({ CLUSTER_MODE: "redis" }).join("\n")).toMatch(/CLUSTER_MODE/);
    expect(problems({ INSTANCE_ID: "__x__" })).toHaveLength(1);
  });
});

describe("starting with CLUSTER_MODE=firestore", () => {
  it("is refused with a config error (exit 78) until cluster mode is served, rather than running one unfenced process", async () => {
    const printed: string[] = [];
    class Exited extends Error {
      constructor(readonly code: number) {
        super(`exit ${code}`);
      }
    }
    const { launch } = await import("../../src/app/composition/launch.ts");
    const outcome = await launch({
      env: { CLUSTER_MODE: "firestore", FIRESTORE_PROJECT_ID: "p", LOG_LEVEL: "silent" },
      serve: () => {
        throw new Error("must not serve");
      },
      onSignal: () => undefined,
      exit: (code) => {
        throw new Exited(code);
      },
      print: (line) => printed.push(line),
      isTerminal: false,
    }).catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(Exited);
    expect((outcome as Exited).code).toBe(78);
    expect(printed.join("\n")).toMatch(/CLUSTER_MODE: firestore is not served by this version yet/);
  });
});
