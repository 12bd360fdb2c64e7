import { describe, expect, it } from "vitest";
import { BoundedCache } from "../../../src/adapters/shared/bounded-cache.ts";

describe("BoundedCache", () => {
  it("never holds more than maxEntries, however many are set, and drops the least recently used", () => {
    const cache = new BoundedCache<number>({ maxEntries: 100, ttlMs: 60_000 });
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, i);
      if (i % 10 === 0) cache.get("k0"); // kept in use: survives
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.size).toBe(100);
    expect(cache.get("k0")).toBe(0);
    expect(cache.get("k9999")).toBe(9999);
    expect(cache.get("k5000")).toBeUndefined();
  });

  it("forgets an entry ttlMs after it was set, even one in use", () => {
    let now = 0;
    const cache = new BoundedCache<string>({ maxEntries: 10, ttlMs: 1_000, now: () => now });
    cache.set("a", "1");
    now = 999;
    expect(cache.get("a")).toBe("1");
    now = 1_000;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set("a", "2");
    now = 1_500;
    expect(cache.has("a")).toBe(true);
  });

  it("deletes and clears", () => {
    const cache = new BoundedCache<number>({ maxEntries: 3, ttlMs: 1_000 });
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.delete("a")).toBe(true);
    expect(cache.get("a")).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });
});
