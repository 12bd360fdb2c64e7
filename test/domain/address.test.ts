import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress } from "../../src/domain/address.ts";
import { DomainError } from "../../src/domain/errors.ts";

describe("parseAddress", () => {
  it("reads Twilio's prefixed notation", () => {
    expect(parseAddress("whatsapp:+40712345678", "to", undefined, "sms")).toEqual({
      channel: "whatsapp",
      e164: "+40712345678",
    });
    expect(parseAddress("sms:+14155550100", "to", undefined, "whatsapp")).toEqual({
      channel: "sms",
      e164: "+14155550100",
    });
  });

  it("gives a bare number the explicit channel, else the default", () => {
    expect(parseAddress("+40712345678", "to", "sms", "whatsapp").channel).toBe("sms");
    expect(parseAddress("+40712345678", "to", undefined, "whatsapp").channel).toBe("whatsapp");
  });

  it("accepts a channel that agrees with the prefix and rejects one that does not", () => {
    expect(parseAddress("sms:+40712345678", "to", "sms", "whatsapp").channel).toBe("sms");
    expect(() => parseAddress("sms:+40712345678", "to", "whatsapp", "whatsapp")).toThrow(/disagrees/);
  });

  it.each([
    ["40712345678", "no plus"],
    ["+0712345678", "country code 0"],
    ["+1234567890123456", "16 digits"],
    ["+12345", "too short"],
    ["+4071234abcd", "letters"],
    ["telegram:+40712345678", "unknown prefix"],
    ["", "empty"],
    ["whatsapp:", "prefix only"],
  ])("rejects %j (%s) with ADDRESS.INVALID naming the field", (raw) => {
    let caught: unknown;
    try {
      parseAddress(raw, "to", undefined, "whatsapp");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe("ADDRESS.INVALID");
    expect((caught as DomainError).issues[0]?.field).toBe("to");
  });

  it("formats back to the prefixed notation", () => {
    expect(formatAddress(parseAddress(" +40712345678 ", "to", "whatsapp", "sms"))).toBe("whatsapp:+40712345678");
  });
});
