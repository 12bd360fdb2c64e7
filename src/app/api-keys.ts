import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Verifies API keys without ever holding them in plain text after start. */
export class ApiKeyVerifier {
  private readonly hashes: readonly Buffer[];

  constructor(hashes: readonly Buffer[]) {
    this.hashes = hashes;
  }

  static fromKeys(keys: readonly string[]): ApiKeyVerifier {
    return new ApiKeyVerifier(keys.map(sha256));
  }

  /**
   * Compares the presented key against every known key in constant time: both
   * sides are hashed to the same length first, and every known key is always
   * compared, so timing reveals neither a prefix nor which key matched.
   */
  verify(presented: string): boolean {
    return this.identify(presented) !== null;
  }

  /**
   * Like {@link verify}, but answers the key's fingerprint (see
   * {@link ApiKeyVerifier.fingerprint}) when it matches, from the one hash
   * the comparison needed, and `null` when it does not.
   */
  identify(presented: string): string | null {
    const candidate = sha256(presented);
    let match = false;
    for (const hash of this.hashes) match = timingSafeEqual(candidate, hash) || match;
    return match ? fingerprintOf(candidate) : null;
  }

  /** A short, non-reversible label of a key, safe for logs and rate-limit buckets. */
  static fingerprint(key: string): string {
    return fingerprintOf(sha256(key));
  }
}

function fingerprintOf(hash: Buffer): string {
  return hash.subarray(0, 6).toString("hex");
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

interface StoredKeys {
  readonly version: 1;
  readonly sha256: readonly string[];
}

/**
 * Resolves the API keys of this instance: the configured ones, or else the
 * hashed keys stored in the data dir. On the very first start with neither,
 * generates one key, stores only its hash (file mode 0600) and returns the
 * plain key once so the caller can show it to the operator.
 */
export async function resolveApiKeys(
  configured: readonly string[],
  dataDir: string,
): Promise<{ verifier: ApiKeyVerifier; generated: string | null }> {
  if (configured.length > 0) return { verifier: ApiKeyVerifier.fromKeys(configured), generated: null };
  const file = join(dataDir, "api-keys.json");
  const existing = await readStoredKeys(file);
  if (existing)
    return { verifier: new ApiKeyVerifier(existing.sha256.map((h) => Buffer.from(h, "hex"))), generated: null };
  const key = `gw_${randomBytes(32).toString("base64url")}`;
  const stored: StoredKeys = { version: 1, sha256: [sha256(key).toString("hex")] };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // "wx": never overwrite a key file another process created meanwhile.
  await writeFile(file, JSON.stringify(stored), { mode: 0o600, flag: "wx" });
  return { verifier: ApiKeyVerifier.fromKeys([key]), generated: key };
}

async function readStoredKeys(file: string): Promise<StoredKeys | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StoredKeys>;
  if (parsed.version !== 1 || !Array.isArray(parsed.sha256) || parsed.sha256.length === 0) {
    throw new Error(`${file} is not a valid API key file; delete it to generate a new key`);
  }
  return parsed as StoredKeys;
}
