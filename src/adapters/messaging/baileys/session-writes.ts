import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { SessionStore } from "../../../domain/ports/session-store.port.ts";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { toStoredValue } from "./stored-values.ts";

export const CREDS_KEY = "creds";

/** After a failed creds write, the first retry waits this long, doubling up to {@link CREDS_RETRY_MAX_MS}. */
const CREDS_RETRY_BASE_MS = 1_000;
const CREDS_RETRY_MAX_MS = 30_000;

/**
 * The store writes of one session that may outlive the socket that started
 * them. A reconnect must use the saved login (e.g. the creds saved right
 * after pairing, before the 515 restart), so `connect()` waits for `flush()`
 * before it reads the store.
 *
 * Creds writes are serialized (an older snapshot never lands after a newer
 * one) and coalesced (a burst of creds.update becomes one write of the latest
 * state). A creds write that failed (the disk is full) is kept and retried
 * with backoff while the socket stays up, and by `flush()` before a
 * reconnect: a store outage delays the save, it never logs the session out.
 */
export class SessionWrites {
  private readonly inFlight = new Set<Promise<unknown>>();
  private credsChain: Promise<void> = Promise.resolve();
  /** Creds waiting for the chained write that will take them. */
  private nextCreds: AuthenticationCreds | undefined;
  /** Creds whose last write failed. */
  private unsavedCreds: AuthenticationCreds | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failedCredsWrites = 0;

  constructor(
    private readonly store: SessionStore,
    readonly session: string,
    private readonly logger: Logger,
  ) {}

  /** Registers a write so `flush()` waits for it; returns it unchanged. */
  track<T>(write: Promise<T>): Promise<T> {
    this.inFlight.add(write);
    const forget = (): void => void this.inFlight.delete(write);
    write.then(forget, forget);
    return write;
  }

  /** Queues a write of the whole creds object; never throws (a failure is logged and retried by `flush()`). */
  saveCreds(creds: AuthenticationCreds): void {
    const alreadyQueued = this.nextCreds !== undefined;
    this.nextCreds = creds;
    if (alreadyQueued) return;
    this.credsChain = this.credsChain.then(() => this.writeQueuedCreds());
    void this.track(this.credsChain);
  }

  /** Forgets creds not yet written: the login was logged out and is about to be wiped. */
  dropPendingCreds(): void {
    this.nextCreds = undefined;
    this.unsavedCreds = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /**
   * Waits until every tracked write has settled, then retries a creds write
   * that failed.
   * @throws the store's error when the creds still cannot be written.
   */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const unsaved = this.unsavedCreds;
    if (!unsaved) return;
    await this.store.setMany(this.session, new Map([[CREDS_KEY, toStoredValue(unsaved)]]));
    if (this.unsavedCreds === unsaved) this.unsavedCreds = undefined;
  }

  private async writeQueuedCreds(): Promise<void> {
    const creds = this.nextCreds;
    this.nextCreds = undefined;
    if (!creds) return;
    try {
      await this.store.setMany(this.session, new Map([[CREDS_KEY, toStoredValue(creds)]]));
      if (this.unsavedCreds !== undefined)
        this.logger.info({ session: this.session }, "baileys: saved the WhatsApp creds after a failed write");
      this.unsavedCreds = undefined;
      this.failedCredsWrites = 0;
    } catch (error) {
      this.unsavedCreds = creds;
      const delayMs = Math.min(CREDS_RETRY_MAX_MS, CREDS_RETRY_BASE_MS * 2 ** Math.min(this.failedCredsWrites++, 5));
      this.logger.error(
        { err: error, session: this.session, retryInMs: delayMs },
        "baileys: could not save the WhatsApp creds; trying again",
      );
      this.retryLater(delayMs);
    }
  }

  /** Writes the unsaved creds again after `delayMs`, unless newer ones are on their way by then. */
  private retryLater(delayMs: number): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const unsaved = this.unsavedCreds;
      if (unsaved !== undefined && this.nextCreds === undefined) this.saveCreds(unsaved);
    }, delayMs);
    this.retryTimer.unref?.();
  }
}
