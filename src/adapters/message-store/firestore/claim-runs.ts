import type { CollectionReference, DocumentReference, Query, Transaction } from "firebase-admin/firestore";
import type { Route } from "../../../domain/message.ts";
import { followersToRead, selectRuns, type RunCandidate } from "../../../domain/recipient-runs.ts";
import type { MessageDoc } from "./message-doc.ts";

/** A message document as run selection sees it, with what the claim writes back. */
export interface DocCandidate extends RunCandidate {
  readonly ref: DocumentReference;
  readonly doc: MessageDoc;
}

/** A route's heads: each recipient's oldest unfinished message. */
export function headsOf(messages: CollectionReference, route: Route): Query {
  return messages
    .where("provider", "==", route.provider)
    .where("session", "==", route.session)
    .where("head", "==", true);
}

/**
 * Reads, in `tx`, what a claim of up to `count` may hand out, and returns
 * the messages the domain's `selectRuns` picks, in acceptance order: the
 * route's due heads, soonest due first (among more due recipients than the
 * limit, those waiting longest go first, where SQLite takes the oldest
 * accepted; per recipient the order is the same), and after each only as
 * many of its recipient's next messages as a run may take.
 */
export async function readRuns(
  tx: Transaction,
  messages: CollectionReference,
  route: Route,
  count: number,
  now: Date,
  window: number,
): Promise<DocCandidate[]> {
  const heads = await tx.get(
    headsOf(messages, route).where("dueAt", "<=", now.getTime()).orderBy("dueAt").orderBy("seq").limit(count),
  );
  const followers = followersToRead(count, heads.size, window);
  const queues = await Promise.all(
    heads.docs.map(async (head) => {
      const doc = head.data() as MessageDoc;
      const queue = [candidate(head.ref, doc)];
      if (followers > 0 && doc.line !== null) {
        const after = await tx.get(
          messages
            .where("line", "==", doc.line)
            .where("unfinished", "==", true)
            .where("seq", ">", doc.seq)
            .orderBy("seq")
            .limit(followers),
        );
        for (const s of after.docs) queue.push(candidate(s.ref, s.data() as MessageDoc));
      }
      return queue;
    }),
  );
  return selectRuns(queues, count, window, now);
}

function candidate(ref: DocumentReference, doc: MessageDoc): DocCandidate {
  return {
    ref,
    doc,
    seq: doc.seq,
    message: { status: doc.status },
    nextAttemptAt: doc.nextAttemptAt,
    leaseUntil: doc.leaseUntil,
  };
}
