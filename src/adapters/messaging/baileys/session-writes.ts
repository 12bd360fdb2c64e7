import type { Logger } from "../../../domain/ports/logger.port.ts";
import type { SessionStore } from "../../../domain/ports/session-store.port.ts";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { toStoredValue } from "./stored-values.ts";

export const CREDS_KEY = "creds";

/**
 * The store writes of one session that may outlive the socket that started
 * them. A reconnect must use the saved login (e.g. the creds saved right
 * after pairing, before the 515 restart), so `connect()` waits for `flush()`
 * before it reads the store.
 *
 * Creds writes are serialized (an older snapshot never lands after a newer
 * one) and coalesced (a burst of creds.update becomes one write of the latest
 * state). A creds write that failed is kept and retried by `flush()`.
 */
export class SessionWrites {
  private readonly inFlight = new Set<Promise<unknown>>();
  private credsChain: Promise<void> = Promise.resolve();
  /** Creds waiting for the chained write that will take them. */
  private nextCreds: AuthenticationCreds | undefined;
  /** Creds whose last write failed. */
  private unsavedCreds: AuthenticationCreds | undefined;

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
      this.unsavedCreds = undefined;
    } catch (error) {
      this.unsavedCreds = creds;
      this.logger.error(
        { err: error, session: this.session },
        "baileys: could not save the WhatsApp creds; the next connect retries",
      );
    }
  }
}
