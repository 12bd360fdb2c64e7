import { createHash, randomBytes } from "node:crypto";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { DomainError } from "../../../domain/errors.ts";
import { withTimeout } from "../../../domain/timeout.ts";

/** Where a Firestore-backed store lives. */
export interface FirestoreLocation {
  readonly projectId: string;
  /** How long a call may wait for Firestore before failing with `STORE.UNAVAILABLE` (default 10,000 ms). */
  readonly callTimeoutMs?: number;
  /**
   * `host:port` of an emulator. Without it, `FIRESTORE_EMULATOR_HOST` (read by
   * firebase-admin itself) or Google's production endpoint is used.
   */
  readonly emulatorHost?: string;
}

export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

let appCounter = 0;

/**
 * A Firestore client on its own named firebase-admin app, so several stores
 * (tests, two stores of one gateway) live in one process and close apart.
 */
export class FirestoreApp {
  readonly db: Firestore;
  readonly #app: App;

  constructor(location: FirestoreLocation, name: string) {
    appCounter += 1;
    this.#app = initializeApp(
      { projectId: location.projectId },
      `${name}-${process.pid}-${appCounter}-${randomBytes(3).toString("hex")}`,
    );
    this.db = getFirestore(this.#app);
    // A domain object's optional field (an error's providerCode) may be undefined: stored as absent.
    this.db.settings({
      ignoreUndefinedProperties: true,
      ...(location.emulatorHost === undefined ? {} : { host: location.emulatorHost, ssl: false }),
    });
  }

  async close(): Promise<void> {
    await this.db.terminate();
    await deleteApp(this.#app);
  }
}

/**
 * A document id for values that may hold characters a Firestore id cannot
 * (`/`, or more than 1,500 bytes): a hash of the parts, unambiguous because
 * each part is length-prefixed.
 */
export function hashedId(...parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}`);
  return hash.digest("base64url");
}

/**
 * Acceptance order across instances: a number that grows with the wall clock
 * (microseconds since the epoch, exact in a double until the year 2255),
 * strictly above the last one this process handed out and above `floor`,
 * the last one recorded for the same ordering key (a recipient's line),
 * which a transaction read. So one key's order is strict whatever the
 * clocks of the instances say; across keys, order follows the clocks.
 */
export class SequenceClock {
  #last = 0;

  next(floor = 0): number {
    const seq = Math.max(Date.now() * 1000, this.#last + 1, floor + 1);
    this.#last = seq;
    return seq;
  }
}

/**
 * Serializes async work per key inside one process, so calls on one key
 * (same Idempotency-Key, same recipient) are applied in call order instead
 * of racing as transactions that Firestore would abort and retry in any
 * order. Across processes, transactions keep them correct.
 */
export class KeyedChain {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

/**
 * gRPC codes of a Firestore call that did not get through: unreachable,
 * out of time, out of quota, or still contended after the client's retries.
 * They mean "try again later", never "bad request".
 */
const OUTAGE_CODES: ReadonlySet<number> = new Set([1, 4, 8, 10, 14]);

/**
 * Every call of a Firestore store goes through one gate: it tracks calls in
 * flight so `close()` can wait for them, refuses new ones once closing, and
 * turns Firestore being out of reach into `STORE.UNAVAILABLE` (503): an
 * error code of {@link OUTAGE_CODES}, or no answer within `timeoutMs`
 * (the client library would otherwise retry for up to a minute). A call
 * that timed out may still commit later: as for any 503, a client retries
 * with the same Idempotency-Key.
 */
export class CallGate {
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #name: string;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(name: string, timeoutMs: number) {
    this.#name = name;
    this.#timeoutMs = timeoutMs;
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new DomainError("STORE.UNAVAILABLE", `the ${this.#name} is closed`));
    const call = withTimeout(
      work(),
      this.#timeoutMs,
      () =>
        new DomainError(
          "STORE.UNAVAILABLE",
          `the ${this.#name}: Firestore did not answer within ${this.#timeoutMs} ms`,
        ),
    ).catch((error: unknown) => {
      throw outage(error, this.#name);
    });
    this.#inFlight.add(call);
    void call.then(
      () => this.#inFlight.delete(call),
      () => this.#inFlight.delete(call),
    );
    return call;
  }

  /** Refuses new calls and resolves once the ones in flight settled; false when already closed. */
  async close(): Promise<boolean> {
    if (this.#closed) return false;
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    return true;
  }
}

function outage(error: unknown, name: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "number" || !OUTAGE_CODES.has(code)) return error;
  return new DomainError("STORE.UNAVAILABLE", `the ${name}: Firestore unavailable (${(error as Error).message})`);
}
