import { generateKeyPair } from "node:crypto";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import { INITIAL_PREKEY_COUNT } from "@whiskeysockets/baileys";
import type { KeyPair } from "@whiskeysockets/baileys";
import type { StoreAuthState } from "./auth-state.ts";

/** Prekeys per store write: each write is atomic and durable; the creds name the keys only once all are written. */
const PAIRS_PER_WRITE = 203;
/**
 * Key pairs being made at once in the whole process. They are made on
 * libuv's thread pool (4 threads by default), which file I/O shares: two
 * leave the others to the stores.
 */
const PAIRS_IN_FLIGHT = 2;

// The DER framing node:crypto puts around a raw X25519 key (RFC 8410), as libsignal strips it.
const SPKI_PREFIX_LENGTH = 12;
const PKCS8_PREFIX_LENGTH = 16;

/**
 * Makes and stores the prekeys a login's first upload needs, before its
 * socket opens, without holding the event loop.
 *
 * A login that never uploaded prekeys has the server ask for 812 at its
 * first open; Baileys then makes all 812 key pairs in one synchronous loop
 * on the main thread (~125 ms, seconds when twenty logins open at once) and
 * writes them in one call, holding every other session. Baileys makes only
 * the pairs the creds do not already count as made and not uploaded
 * (`nextPreKeyId - firstUnuploadedPreKeyId`), so pairs made here ahead are
 * the ones it reads, signs and uploads: the same keys, in the same store
 * entries, under the same ids. They are made as libsignal makes them (an
 * X25519 pair from node:crypto), but asynchronously, on the thread pool.
 *
 * The creds count the new keys (`nextPreKeyId`) only once every write of
 * them resolved, so stored creds never name a prekey the store lacks. A
 * linked login's creds are saved; a new one's are saved with the rest of
 * the login when it pairs. A failed write leaves the creds as they were
 * (Baileys then makes the keys itself) and is logged.
 */
export async function prepareFirstPreKeys(auth: StoreAuthState, session: string, logger: Logger): Promise<void> {
  const { creds } = auth;
  if (creds.firstUnuploadedPreKeyId > 1) return; // uploaded before: the server asks for a handful at most
  const first = creds.nextPreKeyId;
  const end = first + INITIAL_PREKEY_COUNT - (first - creds.firstUnuploadedPreKeyId);
  if (end <= first) return;
  try {
    for (let from = first; from < end; from += PAIRS_PER_WRITE) {
      const ids = Array.from({ length: Math.min(PAIRS_PER_WRITE, end - from) }, (_, i) => from + i);
      const pairs = await Promise.all(ids.map(() => keyPairs.run(makeKeyPair)));
      await auth.keys.set({ "pre-key": Object.fromEntries(ids.map((id, i) => [id, pairs[i]!])) });
    }
  } catch (error) {
    logger.warn({ err: error, session }, "baileys: could not store prekeys ahead; the socket makes them itself");
    return;
  }
  if (auth.isSealed()) return;
  creds.nextPreKeyId = end;
  if (!auth.isNew) auth.saveCreds();
}

/** An X25519 key pair in Baileys' form: the raw 32-byte private and public keys. */
function makeKeyPair(): Promise<KeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      "x25519",
      { publicKeyEncoding: { format: "der", type: "spki" }, privateKeyEncoding: { format: "der", type: "pkcs8" } },
      (error, publicDer, privateDer) => {
        if (error) return reject(error);
        resolve({
          private: Buffer.from(privateDer.subarray(PKCS8_PREFIX_LENGTH, PKCS8_PREFIX_LENGTH + 32)),
          public: Buffer.from(publicDer.subarray(SPKI_PREFIX_LENGTH, SPKI_PREFIX_LENGTH + 32)),
        });
      },
    );
  });
}

/** Runs at most `limit` tasks at once, the others in arrival order. */
class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finished task hands its slot straight to the next waiting one.
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

const keyPairs = new Limiter(PAIRS_IN_FLIGHT);
