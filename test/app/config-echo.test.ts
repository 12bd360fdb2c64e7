import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error("the configuration was accepted");
}

describe("configuration errors never echo a secret", () => {
  it("shows the value of an ordinary bad variable, to help fix it", () => {
    expect(problems({ PORT: "eighty" })).toContain('PORT: Invalid input: expected number, received NaN (got "eighty")');
  });

  it("names a bad secret variable without its value", () => {
    const message = problems({ WEBHOOK_SECRET: "whsec_SECRET-not-base64!!" });
    expect(message).toContain("WEBHOOK_SECRET");
    expect(message).not.toContain("SECRET-not-base64");
  });

  it("does not echo a secret pasted into the wrong variable (found by test/e2e/secrets.e2e.test.ts)", () => {
    const token = "SECRET-twilio-token-8a7b6c5d";
    const message = problems({
      GATEWAY_PROVIDERS: "twilio",
      TWILIO_AUTH_TOKEN: token,
      TWILIO_ACCOUNT_SID: `AC${token}`, // the token where the SID belongs
      TWILIO_FROM: "+15550001111",
      PUBLIC_BASE_URL: "https://gw.example.test",
      API_KEYS: "key-one,SECRET-api-key",
      LOG_LEVEL: "SECRET-api-key", // an API key where the level belongs
    });
    expect(message).toContain("TWILIO_ACCOUNT_SID: must be an Account SID");
    expect(message).toContain("LOG_LEVEL");
    expect(message).not.toContain(token);
    expect(message).not.toContain("SECRET-api-key");
  });
});
