import { describe, expect, it } from "vitest";
import { formatAddress, groupAddress, isGroupAddress, parseAddress } from "../../src/domain/address.ts";
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

describe("group addresses", () => {
  it("reads whatsapp:group:<id> and writes it back", () => {
    const parsed = parseAddress("whatsapp:group:120363012345678901", "to", undefined, "sms");
    expect(parsed).toEqual({ channel: "whatsapp", group: "120363012345678901" });
    expect(formatAddress(parsed)).toBe("whatsapp:group:120363012345678901");
    expect(parseAddress("whatsapp:group:40712345678-1600000000", "to", "whatsapp", "sms").group).toBe(
      "40712345678-1600000000",
    );
    expect(isGroupAddress("whatsapp:group:120363012345678901")).toBe(true);
    expect(isGroupAddress("whatsapp:+40712345678")).toBe(false);
  });

  it("refuses a malformed group id and a group on SMS", () => {
    for (const bad of ["whatsapp:group:", "whatsapp:group:abc", "whatsapp:group:123@g.us", "whatsapp:group:12"]) {
      expect(() => parseAddress(bad, "to", undefined, "whatsapp")).toThrow(/group/);
    }
    expect(() => parseAddress("whatsapp:group:120363012345678901", "to", "sms", "sms")).toThrow(/sms/);
    expect(() => groupAddress("nope")).toThrow(DomainError);
    expect(groupAddress("120363012345678901")).toBe("whatsapp:group:120363012345678901");
  });
});
