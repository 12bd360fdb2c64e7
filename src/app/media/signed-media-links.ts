import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../domain/ports/clock.port.ts";
import type { PublicMediaLinks } from "../../domain/ports/public-media-links.port.ts";

/** How long a link serves its file unless the caller says otherwise. */
export const DEFAULT_LINK_TTL_MS = 86_400_000;
/** Shortest secret accepted, from MEDIA_LINK_SECRET or the key file. */
export const MIN_LINK_SECRET_CHARS = 32;
/** Where the generated secret is kept, in DATA_DIR. */
export const MEDIA_LINK_KEY_FILE = "media-link.key";

/** The path of the public route a link points at, for `mediaId`. */
export function publicMediaPath(mediaId: string): string {
  return `/media/${encodeURIComponent(mediaId)}/public`;
}

export type LinkCheck =
  | { readonly ok: true; readonly expiresAt: Date; readonly secondsLeft: number }
  | { readonly ok: false; readonly reason: "invalid" | "expired" };

// base64url of a 32-byte HMAC-SHA256, no padding.
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
// Unix seconds; 12 digits reach the year 33658, and keep Number() exact.
const EXPIRY = /^\d{1,12}$/;

/**
 * Signed, expiring links to held media, for those who fetch a file without an
 * API key (Twilio fetching an MMS attachment):
 * `{PUBLIC_BASE_URL}/media/{id}/public?exp={unix seconds}&sig={base64url HMAC-SHA256}`.
 * The signature covers the id and the expiry, so neither can be changed; a
 * link cannot be revoked before it expires other than by deleting the file
 * or changing the secret (which voids every link given out).
 */
export class SignedMediaLinks implements PublicMediaLinks {
  readonly #key: Buffer;
  readonly #base: string;

  constructor(
    publicBaseUrl: string,
    secret: string,
    private readonly clock: Clock,
  ) {
    if (secret.length < MIN_LINK_SECRET_CHARS) {
      throw new Error(`a media link secret needs at least ${MIN_LINK_SECRET_CHARS} characters`);
    }
    this.#key = Buffer.from(secret, "utf8");
    this.#base = publicBaseUrl.replace(/\/+$/, "");
  }

  link(mediaId: string, ttlMs = DEFAULT_LINK_TTL_MS): string {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`a link's lifetime must be positive, got ${ttlMs}`);
    // Rounded up: a link never expires before the lifetime asked for.
    const exp = Math.ceil((this.clock.now().getTime() + ttlMs) / 1000);
    return `${this.#base}${publicMediaPath(mediaId)}?exp=${exp}&sig=${this.#sign(mediaId, String(exp))}`;
  }

  /**
   * Whether `exp` and `sig` (as the query gave them, possibly absent) are a
   * genuine, unexpired signature for `mediaId`. The signature is checked
   * first and in constant time, so an expired link is only reported as such
   * when it was genuine.
   */
  check(mediaId: string, exp: string | undefined, sig: string | undefined): LinkCheck {
    if (exp === undefined || sig === undefined || !EXPIRY.test(exp) || !SIGNATURE.test(sig)) {
      return { ok: false, reason: "invalid" };
    }
    // Compared as text: a non-canonical base64url spelling of the right bytes is refused too.
    const expected = Buffer.from(this.#sign(mediaId, exp), "ascii");
    if (!timingSafeEqual(Buffer.from(sig, "ascii"), expected)) return { ok: false, reason: "invalid" };
    const expiresAt = new Date(Number(exp) * 1000);
    const leftMs = expiresAt.getTime() - this.clock.now().getTime();
    if (leftMs <= 0) return { ok: false, reason: "expired" };
    return { ok: true, expiresAt, secondsLeft: Math.floor(leftMs / 1000) };
  }

  // `exp` is digits only and comes first, so `exp:id` splits one way only.
  #sign(mediaId: string, exp: string): string {
    return createHmac("sha256", this.#key).update(`media-link:v1:${exp}:${mediaId}`, "utf8").digest("base64url");
  }
}

/**
 * The secret links are signed with: MEDIA_LINK_SECRET when set, else the one
 * kept in `DATA_DIR/media-link.key`, which the first start generates (32
 * random bytes, base64url, file mode 0600). Instances that serve the same
 * media need the same secret: give them MEDIA_LINK_SECRET (the file's
 * content works). Synchronous: read once while the gateway is assembled.
 */
export function mediaLinkSecret(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) return configured;
  const file = join(dataDir, MEDIA_LINK_KEY_FILE);
  return readSecret(file) ?? createSecret(dataDir, file);
}

function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const secret = text.trim();
  if (secret.length < MIN_LINK_SECRET_CHARS) {
    throw new Error(
      `${file} does not hold a media link secret (at least ${MIN_LINK_SECRET_CHARS} characters); ` +
        "delete it to generate a new one (links already given out then stop working)",
    );
  }
  return secret;
}

/**
 * Writes a new secret to a temporary file and links it into place: the key
 * file appears whole or not at all, and never replaces one another process
 * created meanwhile (then that one is read).
 */
function createSecret(dataDir: string, file: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString("base64url");
  const temp = join(dataDir, `.${MEDIA_LINK_KEY_FILE}.${process.pid}.${randomBytes(6).toString("hex")}`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const theirs = readSecret(file);
    if (theirs === undefined) throw new Error(`${file} appeared and vanished while it was being created`);
    return theirs;
  } finally {
    unlinkSync(temp);
  }
}
