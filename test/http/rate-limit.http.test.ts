import { afterEach, describe, expect, it } from "vitest";
import { ApiKeyVerifier } from "../../src/app/api-keys.ts";
import { TokenBuckets } from "../../src/app/http/rate-limit.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("TokenBuckets", () => {
  it("allows a burst, then refuses with the whole seconds until the next token", () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 0.5, burst: 3, now: time.now });
    expect([1, 2, 3].map(() => buckets.take("a").ok)).toEqual([true, true, true]);
    expect(buckets.take("a")).toEqual({ ok: false, retryAfterS: 2 }); // one token per 2 s
    time.advance(1_000);
    expect(buckets.take("a")).toEqual({ ok: false, retryAfterS: 1 });
  });

  it("never says Retry-After 0, however close the next token is", () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 1000, burst: 1, now: time.now });
    expect(buckets.take("a").ok).toBe(true);
    expect(buckets.take("a")).toEqual({ ok: false, retryAfterS: 1 });
  });

  it("refills at the configured rate, up to the burst and no further", () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 10, burst: 5, now: time.now });
    for (let i = 0; i < 5; i++) buckets.take("a");
    expect(buckets.take("a").ok).toBe(false);
    time.advance(300); // 3 tokens
    expect([1, 2, 3, 4].map(() => buckets.take("a").ok)).toEqual([true, true, true, false]);
    time.advance(3_600_000); // idle for an hour: a full bucket, not 36,000 tokens
    expect(Array.from({ length: 6 }, () => buckets.take("a").ok)).toEqual([true, true, true, true, true, false]);
  });

  it("keeps each key's bucket to itself", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2, now: clock().now });
    buckets.take("a");
    buckets.take("a");
    expect(buckets.take("a").ok).toBe(false);
    expect(buckets.take("b").ok).toBe(true);
    expect(buckets.take("b").ok).toBe(true);
    expect(buckets.take("b").ok).toBe(false);
  });

  it("limits nothing and tracks nothing when perSecond is 0", () => {
    const buckets = new TokenBuckets({ perSecond: 0, burst: 1 });
    expect(Array.from({ length: 1_000 }, () => buckets.take("a").ok).every(Boolean)).toBe(true);
    expect(buckets.size).toBe(0);
  });

  it("holds at most maxKeys buckets, forgetting the least recently used", () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1, maxKeys: 3, now: clock().now });
    for (const key of ["a", "b", "c"]) buckets.take(key);
    expect(buckets.take("a").ok).toBe(false); // a is now the most recent
    for (let i = 0; i < 10_000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBe(3);
    // Forgotten keys come back with a full bucket: eviction can only be generous, never lock a key out.
    expect(buckets.take("b").ok).toBe(true);
  });

  it("rejects settings that cannot work", () => {
    expect(() => new TokenBuckets({ perSecond: -1, burst: 1 })).toThrow();
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow();
  });
});

describe("rate limiting through the app", () => {
  let gw: InProcessGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  const as = (key: string) => ({ auth: false, headers: { authorization: `Bearer ${key}` } });

  it("answers 429 REQUEST.RATE_LIMITED with Retry-After once a key used its burst, per key, after auth", async () => {
    gw = await startInProcessGateway({
      API_KEYS: "key-one,key-two",
      RATE_LIMIT_PER_SECOND: "0.1",
      RATE_LIMIT_BURST: "3",
    });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await gw.call("GET", "/messages", as("key-one"))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    const limited = await gw.call("POST", "/messages", {
      ...as("key-one"),
      raw: "{}",
      headers: { ...as("key-one").headers, "content-type": "application/json" },
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/problem+json");
    expect(limited.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(10);
    const body = (await limited.json()) as { code: string; status: number; detail: string };
    expect(body).toMatchObject({ code: "REQUEST.RATE_LIMITED", status: 429 });
    expect(body.detail).not.toContain("key-one");

    expect((await gw.call("GET", "/messages", as("key-two"))).status).toBe(200);
    // Wrong keys are refused by auth first: they never get (or consume) a bucket.
    expect((await gw.call("GET", "/messages", as("key-three"))).status).toBe(401);
    // Public routes are not limited.
    for (let i = 0; i < 5; i++) expect((await gw.call("GET", "/health", { auth: false })).status).toBe(200);
  });

  it("lets the key through again once its bucket refilled", async () => {
    gw = await startInProcessGateway({ RATE_LIMIT_PER_SECOND: "20", RATE_LIMIT_BURST: "2" });
    const g = gw;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await g.call("GET", "/messages")).status);
    expect(statuses).toEqual([200, 200, 429]);
    await eventually(
      async () => ((await g.call("GET", "/messages")).status === 200 ? true : undefined),
      5_000,
      "a refilled token",
    );
  });

  it("limits nothing with RATE_LIMIT_PER_SECOND=0", async () => {
    gw = await startInProcessGateway({ RATE_LIMIT_PER_SECOND: "0", RATE_LIMIT_BURST: "1" });
    const statuses = await Promise.all(
      Array.from({ length: 300 }, () => gw!.call("GET", "/messages/none").then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([404]));
  });

  it("keys buckets by a fingerprint, not the key", () => {
    const fingerprint = ApiKeyVerifier.fingerprint("key-one");
    expect(fingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(fingerprint).not.toContain("key-one");
  });
});
