import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/app/config/load-config.ts";
import {
  MEDIA_LINK_KEY_FILE,
  mediaLinkSecret,
  SignedMediaLinks,
  type LinkCheck,
} from "../../src/app/media/signed-media-links.ts";
import type { Clock } from "../../src/domain/ports/clock.port.ts";
import { tempDir } from "../support/temp-dir.ts";

const BASE = "https://gw.example.test/prefix";
const SECRET = "unit-test-media-link-secret-0123456789";
const T0 = new Date("2026-12-01T10:00:00.250Z");

class ManualClock implements Clock {
  constructor(private at: Date) {}
  now(): Date {
    return this.at;
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await tempDir("media-links-");
  cleanups.push(dir.remove);
  return dir.path;
}

/** What the public route reads from a link: the id from the path, exp and sig from the query. */
function parts(link: string): [string, string | undefined, string | undefined] {
  const url = new URL(link);
  const id = decodeURIComponent(/\/media\/([^/]+)\/public$/.exec(url.pathname)![1]!);
  return [id, url.searchParams.get("exp") ?? undefined, url.searchParams.get("sig") ?? undefined];
}

const invalid: LinkCheck = { ok: false, reason: "invalid" };

describe("SignedMediaLinks", () => {
  it("links under the public base URL with the expiry in unix seconds and a base64url HMAC-SHA256", () => {
    const links = new SignedMediaLinks(`${BASE}/`, SECRET, new ManualClock(T0));
    const link = links.link("med_1", 60_000);
    const url = new URL(link);
    expect(`${url.origin}${url.pathname}`).toBe(`${BASE}/media/med_1/public`);
    expect([...url.searchParams.keys()]).toEqual(["exp", "sig"]);
    // Rounded up: never shorter than asked.
    expect(url.searchParams.get("exp")).toBe(String(Math.ceil((T0.getTime() + 60_000) / 1000)));
    expect(url.searchParams.get("sig")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(links.check(...parts(link))).toEqual({
      ok: true,
      expiresAt: new Date(Math.ceil((T0.getTime() + 60_000) / 1000) * 1000),
      secondsLeft: 60,
    });
  });

  it("lasts a day unless told otherwise, and refuses a lifetime that is not positive", () => {
    const clock = new ManualClock(T0);
    const links = new SignedMediaLinks(BASE, SECRET, clock);
    const link = links.link("med_1");
    clock.advance(86_400_000 - 1_000);
    expect(links.check(...parts(link)).ok).toBe(true);
    clock.advance(2_000);
    expect(links.check(...parts(link))).toEqual({ ok: false, reason: "expired" });
    expect(() => links.link("med_1", 0)).toThrow(RangeError);
    expect(() => links.link("med_1", Number.NaN)).toThrow(RangeError);
  });

  it("reports a genuine link past its expiry as expired, and a tampered one as invalid whatever its expiry", () => {
    const clock = new ManualClock(T0);
    const links = new SignedMediaLinks(BASE, SECRET, clock);
    const [id, exp, sig] = parts(links.link("med_1", 5_000));
    clock.advance(6_000);
    expect(links.check(id, exp, sig)).toEqual({ ok: false, reason: "expired" });
    // Pushing the expiry forward breaks the signature.
    expect(links.check(id, String(Number(exp) + 3_600), sig)).toEqual(invalid);
  });

  it("refuses every change to a link: another id, expiry or signature, one missing, another secret", () => {
    const links = new SignedMediaLinks(BASE, SECRET, new ManualClock(T0));
    const [id, exp, sig] = parts(links.link("med_1", 60_000));
    const flipped = `${sig![0] === "A" ? "B" : "A"}${sig!.slice(1)}`;
    const other = new SignedMediaLinks(BASE, `${SECRET}-other`, new ManualClock(T0));
    for (const [what, check] of [
      ["another id", links.check("med_2", exp, sig)],
      ["an id with more after it", links.check(`${id}x`, exp, sig)],
      ["another expiry", links.check(id, String(Number(exp) - 1), sig)],
      ["the expiry with a leading zero", links.check(id, `0${exp}`, sig)],
      ["an expiry that is not digits", links.check(id, `${exp}.0`, sig)],
      ["a changed signature", links.check(id, exp, flipped)],
      ["the signature padded", links.check(id, exp, `${sig}=`)],
      ["a character base64url has not", links.check(id, exp, `+${sig!.slice(1)}`)],
      ["no signature", links.check(id, exp, undefined)],
      ["no expiry", links.check(id, undefined, sig)],
      ["an empty signature", links.check(id, exp, "")],
      ["another secret's signature", other.check(id, exp, sig)],
    ] as const) {
      expect({ what, check }).toEqual({ what, check: invalid });
    }
  });

  it("refuses another spelling of the right signature bytes (base64url's unused last bits)", () => {
    const links = new SignedMediaLinks(BASE, SECRET, new ManualClock(T0));
    const [id, exp, sig] = parts(links.link("med_1", 60_000));
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig!.at(-1)!);
    const respelled = `${sig!.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled, "base64url")).toEqual(Buffer.from(sig!, "base64url"));
    expect(links.check(id, exp, respelled)).toEqual(invalid);
  });

  it("escapes an id in the path, and checks the id the route decodes from it", () => {
    const links = new SignedMediaLinks(BASE, SECRET, new ManualClock(T0));
    const link = links.link("a/b c?d", 60_000);
    expect(new URL(link).pathname).toBe("/prefix/media/a%2Fb%20c%3Fd/public");
    expect(links.check(...parts(link)).ok).toBe(true);
  });

  it("refuses a secret shorter than 32 characters", () => {
    expect(() => new SignedMediaLinks(BASE, "x".repeat(31), new ManualClock(T0))).toThrow(/32/);
  });
});

describe("mediaLinkSecret", () => {
  it("generates a secret on first start in DATA_DIR/media-link.key (0600), and reads the same one later", async () => {
    const dir = join(await dataDir(), "not-yet-made");
    const first = mediaLinkSecret(undefined, dir);
    const file = join(dir, MEDIA_LINK_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // 32 random bytes, base64url: usable as MEDIA_LINK_SECRET on another instance.
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(file, "utf8").trim()).toBe(first);
    expect(readdirSync(dir)).toEqual([MEDIA_LINK_KEY_FILE]);

    // A restart: the same secret, so links given out before still work.
    expect(mediaLinkSecret(undefined, dir)).toBe(first);
    const before = new SignedMediaLinks(BASE, first, new ManualClock(T0));
    const after = new SignedMediaLinks(BASE, mediaLinkSecret(undefined, dir), new ManualClock(T0));
    expect(after.check(...parts(before.link("med_1"))).ok).toBe(true);
  });

  it("makes a new secret for another data dir", async () => {
    expect(mediaLinkSecret(undefined, await dataDir())).not.toBe(mediaLinkSecret(undefined, await dataDir()));
  });

  it("uses MEDIA_LINK_SECRET when set, and then writes no file", async () => {
    const dir = await dataDir();
    expect(mediaLinkSecret(SECRET, dir)).toBe(SECRET);
    expect(existsSync(join(dir, MEDIA_LINK_KEY_FILE))).toBe(false);
  });

  it("refuses a key file that holds no usable secret rather than replace it", async () => {
    const dir = await dataDir();
    writeFileSync(join(dir, MEDIA_LINK_KEY_FILE), "short\n", { mode: 0o600 });
    expect(() => mediaLinkSecret(undefined, dir)).toThrow(/delete it/);
    expect(readFileSync(join(dir, MEDIA_LINK_KEY_FILE), "utf8")).toBe("short\n");
  });

  it("has the configuration refuse a MEDIA_LINK_SECRET under 32 characters without echoing it", () => {
    const short = "SECRET-link-0123456789";
    let message = "";
    try {
      loadConfig({ MEDIA_LINK_SECRET: short });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      message = error.message;
    }
    expect(message).toContain("MEDIA_LINK_SECRET: must be at least 32 characters");
    expect(message).not.toContain(short);
  });
});
