import { ProviderError, type MessageError } from "../../domain/errors.ts";
import type { AttemptOutcome } from "../../domain/ports/message-store.port.ts";
import { PreparationError } from "./preparation-error.ts";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.ts";

export type FailureOutcome = Extract<AttemptOutcome, { kind: "retry" | "failed" }>;

export interface FailurePolicy extends BackoffPolicy {
  readonly maxAttempts: number;
}

/** A send that took longer than the dispatcher is willing to wait. */
export class SendTimeoutError extends Error {
  override readonly name = "SendTimeoutError";
}

/**
 * Turns a failed attempt into the next step for the message. A provider that
 * is not connected never fails a message: it goes back to the queue, due at
 * once, and waits for the session to return. Otherwise retryable errors are
 * retried with backoff until `maxAttempts`, and the rest fail with a reason.
 */
export function classifyFailure(
  error: unknown,
  attempt: number,
  providerReady: boolean,
  policy: FailurePolicy,
  now: Date,
  random: () => number = Math.random,
): FailureOutcome {
  const reason = toMessageError(error);
  if (reason.retryable && !providerReady) return { kind: "retry", error: reason, nextAttemptAt: now };
  if (!reason.retryable) return { kind: "failed", error: reason };
  if (attempt >= policy.maxAttempts) {
    return {
      kind: "failed",
      error: { ...reason, message: `gave up after ${attempt} attempts: ${reason.message}`, retryable: false },
    };
  }
  const delay = backoffDelayMs(attempt, policy, random);
  return { kind: "retry", error: reason, nextAttemptAt: new Date(now.getTime() + delay) };
}

function toMessageError(error: unknown): MessageError {
  if (error instanceof ProviderError) {
    return {
      code: error.retryable ? "PROVIDER.UNAVAILABLE" : "PROVIDER.REJECTED",
      message: error.message,
      retryable: error.retryable,
      ...(error.providerCode === undefined ? {} : { providerCode: error.providerCode }),
    };
  }
  if (error instanceof PreparationError)
    return { code: error.code, message: error.message, retryable: error.retryable };
  if (error instanceof SendTimeoutError) return { code: "PROVIDER.TIMEOUT", message: error.message, retryable: true };
  // An unexpected error is a bug or an outage of ours: retrying is the safe side.
  const message = error instanceof Error ? error.message : String(error);
  return { code: "INTERNAL", message, retryable: true };
}
