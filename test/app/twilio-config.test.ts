import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";

const SID = `AC${"a1".repeat(16)}`;
const TOKEN = "super-secret-auth-token-value";
const twilioEnv = {
  GATEWAY_PROVIDERS: "twilio",
  TWILIO_ACCOUNT_SID: SID,
  TWILIO_AUTH_TOKEN: TOKEN,
  TWILIO_FROM: "+15550001111",
  PUBLIC_BASE_URL: "https://gateway.example.com/",
};

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error("expected a ConfigError");
}

describe("Twilio configuration", () => {
  it("accepts a complete Twilio service and drops the trailing slash of PUBLIC_BASE_URL", () => {
    const config = loadConfig(twilioEnv);
    expect(config.GATEWAY_PROVIDERS).toEqual(["twilio"]);
    expect(config.PUBLIC_BASE_URL).toBe("https://gateway.example.com");
    expect(config.TWILIO_ACCOUNT_SID).toBe(SID);
  });

  it("accepts a Messaging Service instead of a From number", () => {
    const { TWILIO_FROM: _, ...rest } = twilioEnv;
    const config = loadConfig({ ...rest, TWILIO_MESSAGING_SERVICE_SID: `MG${"0".repeat(32)}` });
    expect(config.TWILIO_FROM).toBeUndefined();
  });

  it("names every missing Twilio variable in one error when twilio is enabled", () => {
    const message = configError({ GATEWAY_PROVIDERS: "baileys,twilio" });
    for (const name of [
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
      "TWILIO_FROM",
      "TWILIO_MESSAGING_SERVICE_SID",
      "PUBLIC_BASE_URL",
    ]) {
      expect(message).toContain(name);
    }
  });

  it("requires nothing of Twilio when it is not enabled", () => {
    expect(loadConfig({ GATEWAY_PROVIDERS: "baileys" }).TWILIO_ACCOUNT_SID).toBeUndefined();
  });

  it("refuses WHATSAPP_PROVIDER=twilio without twilio in GATEWAY_PROVIDERS", () => {
    expect(configError({ GATEWAY_PROVIDERS: "baileys", WHATSAPP_PROVIDER: "twilio" })).toMatch(
      /WHATSAPP_PROVIDER: .*GATEWAY_PROVIDERS must include twilio/,
    );
    expect(loadConfig({ ...twilioEnv, WHATSAPP_PROVIDER: "twilio" }).WHATSAPP_PROVIDER).toBe("twilio");
  });

  it.each([
    ["TWILIO_ACCOUNT_SID", "SK123"],
    ["TWILIO_FROM", "15550001111"],
    ["TWILIO_MESSAGING_SERVICE_SID", "MG12"],
    ["TWILIO_API_BASE_URL", "ftp://proxy"],
    ["PUBLIC_BASE_URL", "gateway.example.com"],
    ["PUBLIC_BASE_URL", "https://gateway.example.com/?x=1"],
  ])("rejects %s=%s", (name, value) => {
    expect(configError({ ...twilioEnv, [name]: value })).toContain(`${name}:`);
  });

  it("never echoes the auth token in an error", () => {
    const message = configError({ ...twilioEnv, PUBLIC_BASE_URL: "nope", TWILIO_AUTH_TOKEN: TOKEN });
    expect(message).toContain("PUBLIC_BASE_URL");
    expect(message).not.toContain(TOKEN);
  });
});
