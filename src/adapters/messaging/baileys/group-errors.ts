import { DomainError } from "../../../domain/errors.ts";
import { iqErrorCode, toProviderError } from "./send-errors.ts";

/**
 * A failed group query in our words: the group does not exist or we are
 * not in it (404) -> GROUP.NOT_FOUND; the account may not do this (401,
 * 403) -> GROUP.NOT_ADMIN; anything else (a closed connection, a timeout)
 * is a ProviderError, retryable when a later attempt can work.
 */
export function toGroupError(error: unknown, groupId: string): Error {
  const code = iqErrorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code === 404 || text === "item-not-found") {
    return new DomainError("GROUP.NOT_FOUND", `WhatsApp knows no group ${groupId} that this account is in`);
  }
  if (code === 401 || code === 403 || text === "not-authorized" || text === "forbidden") {
    return new DomainError("GROUP.NOT_ADMIN", `this account may not do that in group ${groupId} (${code ?? text})`);
  }
  return toProviderError(error);
}
