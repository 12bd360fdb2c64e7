import { FieldValue, Timestamp, type DocumentSnapshot } from "firebase-admin/firestore";
import type { LeaseRecord } from "../../../domain/session-lease.ts";

/**
 * The lease document `{collection}/{session}`, shared by the Firestore lease
 * adapter (which writes it) and the fenced Firestore session store (which
 * reads it inside each write's transaction): `{session, owner, token,
 * expiresAt, released, updatedAt}`. It is never deleted: its token must
 * never go back.
 */
export const DEFAULT_LEASES_COLLECTION = "leases";

/** The stored lease, or null when there is none. @throws TypeError on a document that is not a lease. */
export function leaseFromSnapshot(snap: DocumentSnapshot): LeaseRecord | null {
  if (!snap.exists) return null;
  const data = snap.data() ?? {};
  const { owner, token, expiresAt, released } = data as Record<string, unknown>;
  if (typeof owner !== "string" || !Number.isSafeInteger(token) || !(expiresAt instanceof Timestamp)) {
    throw new TypeError(`${snap.ref.path} is not a lease document`);
  }
  return {
    session: snap.id,
    owner,
    token: token as number,
    expiresAt: expiresAt.toDate(),
    released: released === true,
  };
}

export function leaseToDocument(record: LeaseRecord): Record<string, unknown> {
  return {
    session: record.session,
    owner: record.owner,
    token: record.token,
    expiresAt: Timestamp.fromDate(record.expiresAt),
    released: record.released,
    updatedAt: FieldValue.serverTimestamp(),
  };
}
