import { describe, expect, it } from "vitest";
import { ConnectPacer } from "../../src/app/sessions/connect-pacer.ts";

describe("ConnectPacer.spaced (restarts after pairing)", () => {
  it("starts a lone restart at once and spaces a burst, then starts at once again", () => {
    let now = 1_000;
    const pacing = ConnectPacer.spaced(100, () => now);

    expect([pacing.reserve(), pacing.reserve(), pacing.reserve()]).toEqual([0, 100, 200]);
    now += 50; // the burst's last restart is still 250 ms away
    expect(pacing.reserve()).toBe(250);
    now += 1_000;
    expect(pacing.reserve()).toBe(0);
  });
});
