import { describe, expect, it } from "vitest";
import { newMessageId } from "../../src/app/message-id.ts";

describe("newMessageId", () => {
  it("is a version 7 UUID", () => {
    expect(newMessageId(1_765_000_000_000)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("sorts by creation time and never repeats", () => {
    const early = newMessageId(1_700_000_000_000);
    const late = newMessageId(1_700_000_000_001);
    expect(early < late).toBe(true);
    const many = new Set(Array.from({ length: 10_000 }, () => newMessageId(1_700_000_000_000)));
    expect(many.size).toBe(10_000);
  });
});
