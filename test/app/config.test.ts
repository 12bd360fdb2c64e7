import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";

describe("loadConfig", () => {
  it("runs on defaults alone", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATA_DIR).toBe("./data");
    expect(config.BODY_LIMIT_BYTES).toBe(65536);
    expect(config.GATEWAY_PROVIDERS).toEqual(["baileys"]);
  });

  it("parses lists, numbers and booleans", () => {
    const config = loadConfig({
      API_KEYS: " a, b ,,",
      PORT: "8080",
      GATEWAY_PROVIDERS: "baileys,twilio",
      PUBLIC_ROUTES_METRICS: "false",
      // twilio in GATEWAY_PROVIDERS requires its credentials (test/app/twilio-config.test.ts)
      TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
      TWILIO_AUTH_TOKEN: "token",
      TWILIO_FROM: "+15550001111",
      PUBLIC_BASE_URL: "https://gateway.example.com",
    });
    expect(config.API_KEYS).toEqual(["a", "b"]);
    expect(config.PORT).toBe(8080);
    expect(config.GATEWAY_PROVIDERS).toEqual(["baileys", "twilio"]);
    expect(config.PUBLIC_ROUTES_METRICS).toBe(false);
  });

  it("names every invalid variable in one error", () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: "http", LOG_LEVEL: "loud", GATEWAY_PROVIDERS: "telegram", BODY_LIMIT_BYTES: "-1" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as ConfigError).message;
    for (const name of ["PORT", "LOG_LEVEL", "GATEWAY_PROVIDERS", "BODY_LIMIT_BYTES"]) expect(message).toContain(name);
    expect((caught as ConfigError).problems).toHaveLength(4);
  });

  it("treats empty strings as unset", () => {
    expect(loadConfig({ PORT: "" }).PORT).toBe(3000);
  });

  it("lets an empty DEFAULT_SESSION disable the default session", () => {
    expect(loadConfig({}).DEFAULT_SESSION).toBe("default");
    expect(loadConfig({ DEFAULT_SESSION: "" }).DEFAULT_SESSION).toBe("");
  });
});
