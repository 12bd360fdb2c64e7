import { describe, expect, it } from "vitest";
import { judgeArrivals, type SimMessage } from "../../scripts/dod/checks/delivery-audit.ts";

const expected = new Map<string, readonly string[]>([
  ["100", ["a1", "a2", "a3"]],
  ["200", ["b1", "b2"]],
]);

let clock = 0;
const arrival = (id: string, to: string, text: string | null): SimMessage => ({ id, to, text, at: ++clock });

describe("the DoD delivery audit", () => {
  it("passes every text once, in order", () => {
    const audit = judgeArrivals(
      [
        arrival("i1", "100", "a1"),
        arrival("i4", "200", "b1"),
        arrival("i2", "100", "a2"),
        arrival("i5", "200", "b2"),
        arrival("i3", "100", "a3"),
      ],
      expected,
    );
    expect(audit).toMatchObject({ delivered: 5, lost: 0, duplicates: 0, resentSameId: 0, outOfOrderRecipients: 0 });
    expect(audit.lastAt).toBe(clock);
  });

  it("reports the same WhatsApp id received twice as a resend, not a duplicate", () => {
    const audit = judgeArrivals(
      [
        arrival("i1", "100", "a1"),
        arrival("i2", "100", "a2"),
        arrival("i2", "100", "a2"),
        arrival("i3", "100", "a3"),
        arrival("i4", "200", "b1"),
        arrival("i5", "200", "b2"),
      ],
      expected,
    );
    expect(audit).toMatchObject({ delivered: 5, duplicates: 0, resentSameId: 1, outOfOrderRecipients: 0 });
  });

  it("counts a text that arrived under a second WhatsApp id as a duplicate", () => {
    const audit = judgeArrivals(
      [
        arrival("i1", "100", "a1"),
        arrival("i2", "100", "a2"),
        arrival("x2", "100", "a2"),
        arrival("i3", "100", "a3"),
        arrival("i4", "200", "b1"),
        arrival("i5", "200", "b2"),
      ],
      expected,
    );
    expect(audit).toMatchObject({ delivered: 5, duplicates: 1, resentSameId: 0 });
  });

  it("counts lost texts and recipients out of order, ignoring texts it did not expect", () => {
    const audit = judgeArrivals(
      [
        arrival("i2", "100", "a2"),
        arrival("i1", "100", "a1"),
        arrival("z", "100", "other"),
        arrival("n", "100", null),
        arrival("i4", "200", "b1"),
      ],
      expected,
    );
    expect(audit).toMatchObject({ delivered: 3, lost: 2, duplicates: 0, outOfOrderRecipients: 1 });
  });

  it("has no last arrival when nothing expected arrived", () => {
    expect(judgeArrivals([], expected)).toMatchObject({ delivered: 0, lost: 5, lastAt: null });
  });
});
