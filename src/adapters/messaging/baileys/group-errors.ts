import { DomainError } from "../../../domain/errors.ts";
import { iqErrorCode, toProviderError } from "./send-errors.ts";

/**
 * A failed group query in our words: the group does not exist (404
 * item-not-found) or the account is not in it (403 forbidden: for this
 * account there is no such group) -> GROUP.NOT_FOUND; the account is in it
 * but may not do this, not being an admin (401 not-authorized) ->
 * GROUP.NOT_ADMIN; anything else (a closed connection, a timeout) is a
 * ProviderError, retryable when a later attempt can work.
 */
export function toGroupError(error: unknown, groupId: string): Error {
  const code = iqErrorCode(error);
  if (code === 404 || code === 403) {
    return new DomainError("GROUP.NOT_FOUND", `WhatsApp knows no group ${groupId} that this account is in (${code})`);
  }
  if (code === 401) {
    return new DomainError("GROUP.NOT_ADMIN", `only the group's admins may do that in group ${groupId} (401)`);
  }
  return toProviderError(error);
}
