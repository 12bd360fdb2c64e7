import { StoreUnavailableError } from "../domain/errors.ts";
import type { Logger } from "../domain/ports/logger.port.ts";
import { backoffDelayMs } from "./dispatcher/backoff.ts";

/**
 * Whether a store refused work because its storage failed (disk full, I/O
 * error): the same write succeeds once the storage recovers, so workers keep
 * it and try again. A closed store (shutdown) is not an outage.
 */
export function isStorageOutage(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}

/** How long to wait before trying a write again after the `attempt`th refusal: 250 ms to 5 s, jittered. */
export function outageRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  return 250 + backoffDelayMs(attempt, { baseMs: 500, maxMs: 4_750 }, random);
}

/** Resolves after `ms` without keeping the process alive. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/**
 * Logs a store's outage once when it begins (with the reason) and once when
 * it ends, rather than once per refused request.
 */
export function logAvailability(logger: Logger, store: string): (failure: StoreUnavailableError | undefined) => void {
  return (failure) => {
    if (failure) {
      logger.error(
        { store, reason: failure.reason },
        "store: cannot write; work that needs it is refused (503 STORE.UNAVAILABLE) or retried until it can",
      );
    } else {
      logger.info({ store }, "store: writes again");
    }
  };
}
