import { ProviderError } from "../../../domain/errors.ts";
import { BAILEYS_PROVIDER } from "../../../domain/ports/messaging-provider.port.ts";
import { withTimeout } from "../../../domain/timeout.ts";
import { isRetryableCode } from "./send-errors.ts";

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Attributes of a `<ack class="message">` stanza. */
export interface MessageAck {
  readonly id?: string;
  readonly error?: string;
}

/**
 * Waits for the server's `<ack class="message" id=..>` of sent messages.
 * Baileys resolves sendMessage once the stanza is written and reports a
 * successful ack nowhere, so the connection listens for the acks itself.
 */
export class ServerAcks {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private failure: Error | undefined;

  constructor(private readonly timeoutMs: number) {}

  /**
   * Starts listening for the ack of `id`; call it before the stanza is sent
   * so a fast ack cannot be missed. `wait()` resolves once the ack came (at
   * once if it came already) and rejects when it does not come within the
   * timeout, counted from the call to `wait()`: call it once the stanza is
   * written, so the time a send spends before that (a media upload) does not
   * count. `cancel()` stops listening (the send failed).
   */
  expect(id: string): { wait(): Promise<void>; cancel(): void } {
    let waiter!: Waiter;
    const acked = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject };
    });
    // The send may fail before anyone awaits the ack: never an unhandled rejection.
    acked.catch(() => undefined);
    if (this.failure) {
      waiter.reject(this.failure);
      return { wait: () => acked, cancel: () => undefined };
    }
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(waiter);
    const settle = (): void => {
      const waiters = this.waiting.get(id);
      waiters?.delete(waiter);
      if (waiters?.size === 0) this.waiting.delete(id);
    };
    acked.then(settle, settle);
    const timeout = (): Error =>
      new ProviderError(BAILEYS_PROVIDER, `no server ack for message ${id} within ${this.timeoutMs} ms`, true, "408");
    return {
      wait: () =>
        withTimeout(acked, this.timeoutMs, timeout).catch((error: unknown) => {
          // Given up: stop listening for this ack.
          waiter.reject(error as Error);
          throw error;
        }),
      cancel: () => waiter.resolve(),
    };
  }

  /** Settles the waiters of an ack: resolved, or rejected when the server refused the message. */
  onAck(ack: MessageAck): void {
    if (!ack.id) return;
    const set = this.waiting.get(ack.id);
    if (!set) return;
    const code = ack.error === undefined ? undefined : Number(ack.error);
    for (const waiter of [...set]) {
      if (ack.error === undefined) waiter.resolve();
      else {
        const retryable = code !== undefined && Number.isInteger(code) && isRetryableCode(code);
        waiter.reject(
          new ProviderError(
            BAILEYS_PROVIDER,
            `WhatsApp refused message ${ack.id} (error ${ack.error})`,
            retryable,
            ack.error,
          ),
        );
      }
    }
  }

  /** Rejects every waiter, now and later: the connection is gone. */
  failAll(error: Error): void {
    this.failure = error;
    for (const set of [...this.waiting.values()]) for (const waiter of [...set]) waiter.reject(error);
  }
}
