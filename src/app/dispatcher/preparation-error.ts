/**
 * Why a message could not be made ready to send (its file could not be
 * fetched, the message it answers was never sent). The dispatcher records it
 * like a provider's failure: retried with backoff while `retryable`, else the
 * message fails with `code`.
 */
export class PreparationError extends Error {
  override readonly name = "PreparationError";
  constructor(
    /** The message's `error.code`: `media.fetch_failed`, `message.target_not_sent`... */
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}
