import { describe, expect, it } from "vitest";
import { ConnectPacer } from "../../src/app/sessions/connect-pacer.ts";

/** A pacer on a clock the test moves: sleeping advances it, so waits are computed, never timed. */
function pacedOn(perSecond: number) {
  let now = 1_000_000;
  const slept: number[] = [];
  const pacer = new ConnectPacer(
    perSecond,
    () => now,
    async (ms) => {
      slept.push(ms);
    },
  );
  return { pacer, slept, advance: (ms: number) => (now += ms) };
}

describe("ConnectPacer", () => {
  it("lets a burst of one second's worth go at once, then one connection per interval", async () => {
    const { pacer } = pacedOn(10);
    const waits = await Promise.all(Array.from({ length: 30 }, () => pacer.turn()));
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    // The 11th waits one interval (100 ms), the 12th two, ... the 30th twenty.
    expect(waits.slice(10).map(Math.round)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
  });

  it("spreads a thousand reconnects over 20 s at 50 a second, none waiting longer than that", async () => {
    const { pacer } = pacedOn(50);
    const waits = await Promise.all(Array.from({ length: 1000 }, () => pacer.turn()));
    expect(waits.filter((w) => w === 0)).toHaveLength(50);
    expect(Math.max(...waits)).toBeCloseTo(19_000, 0);
    const perSecond = new Map<number, number>();
    for (const w of waits) perSecond.set(Math.floor(w / 1000), (perSecond.get(Math.floor(w / 1000)) ?? 0) + 1);
    for (const [second, count] of perSecond) expect(count, `second ${second}`).toBeLessThanOrEqual(100);
  });

  it("refills with time: after a quiet second a new burst goes at once", async () => {
    const { pacer, advance } = pacedOn(5);
    for (let i = 0; i < 5; i++) expect(await pacer.turn()).toBe(0);
    expect(await pacer.turn()).toBeGreaterThan(0);
    advance(5_000);
    for (let i = 0; i < 5; i++) expect(await pacer.turn()).toBe(0);
  });

  it("paces nothing at 0", async () => {
    const { pacer, slept } = pacedOn(0);
    await Promise.all(Array.from({ length: 100 }, () => pacer.turn()));
    expect(slept).toEqual([]);
  });
});
