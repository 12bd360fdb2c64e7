import { describe, expect, it } from "vitest";
import { RestartPacing } from "../../src/app/sessions/restart-pacing.ts";

describe("RestartPacing", () => {
  it("starts a lone restart at once and spaces a burst, then starts at once again", () => {
    let now = 1_000;
    const pacing = new RestartPacing(100, () => now);

    expect([pacing.delayMs(), pacing.delayMs(), pacing.delayMs()]).toEqual([0, 100, 200]);
    now += 50; // the burst's last restart is still 250 ms away
    expect(pacing.delayMs()).toBe(250);
    now += 1_000;
    expect(pacing.delayMs()).toBe(0);
  });
});
