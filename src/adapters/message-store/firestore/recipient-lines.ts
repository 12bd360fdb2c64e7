import type { CollectionReference, DocumentReference, Transaction } from "firebase-admin/firestore";
import { isUnfinished, type StoredMessage } from "../../../domain/message-lifecycle.ts";
import type { MessageDoc } from "./message-doc.ts";

/**
 * One document of `lines` per recipient of a route: the place where every
 * change to which of its messages are unfinished meets, so that instances
 * enqueueing and finishing messages of one recipient at once are serialized
 * by Firestore (both read and write this document) and the `head` flag
 * stays on exactly the oldest unfinished message. Claims, retries and
 * requeues never touch it: they move a message between queued and sending,
 * which changes no head.
 */
export interface LineDoc {
  readonly provider: string;
  readonly session: string;
  readonly to: string;
  /** The `seq` of the newest message accepted for the recipient: the next one gets more. */
  readonly lastSeq: number;
  /** How many of its messages are queued or sending. */
  readonly open: number;
  /** `createdAt` of its head, null when none is open (queueDepths' oldest age). */
  readonly headCreatedAt: number | null;
}

/** What finishing a message changes in its line, read before the transaction writes anything. */
export interface FinishPlan {
  readonly ref: DocumentReference;
  readonly line: LineDoc;
  /** The recipient's next unfinished message, when the one finishing was the head. */
  readonly next: { readonly ref: DocumentReference; readonly doc: MessageDoc } | undefined;
  readonly wasHead: boolean;
}

export class RecipientLines {
  readonly #lines: CollectionReference;
  readonly #messages: CollectionReference;

  constructor(lines: CollectionReference, messages: CollectionReference) {
    this.#lines = lines;
    this.#messages = messages;
  }

  ref(id: string): DocumentReference {
    return this.#lines.doc(id);
  }

  /** Reads a line in `tx`; undefined for a recipient never written to. */
  async read(tx: Transaction, id: string): Promise<LineDoc | undefined> {
    const snap = await tx.get(this.ref(id));
    return snap.exists ? (snap.data() as LineDoc) : undefined;
  }

  /** Records a new message `doc` to `to` on its line, read as `line`: it is the head when nothing else is open. */
  writeAccepted(tx: Transaction, id: string, line: LineDoc | undefined, doc: MessageDoc, to: string): void {
    const open = line?.open ?? 0;
    const next: LineDoc = {
      provider: doc.provider,
      session: doc.session,
      to,
      lastSeq: doc.seq,
      open: open + 1,
      headCreatedAt: open === 0 ? doc.createdAt : (line?.headCreatedAt ?? doc.createdAt),
    };
    tx.set(this.ref(id), next);
  }

  /**
   * The reads a write from `before` to `after` needs when it takes the
   * message out of the queue (sent, failed, cancelled); undefined otherwise.
   */
  async planFinish(tx: Transaction, before: MessageDoc, after: StoredMessage): Promise<FinishPlan | undefined> {
    if (!before.unfinished || isUnfinished(after.message.status) || before.line === null) return undefined;
    const ref = this.ref(before.line);
    const snap = await tx.get(ref);
    if (!snap.exists) return undefined;
    const line = snap.data() as LineDoc;
    let next: FinishPlan["next"];
    if (before.head && line.open > 1) {
      const found = await tx.get(
        this.#messages
          .where("line", "==", before.line)
          .where("unfinished", "==", true)
          .where("seq", ">", before.seq)
          .orderBy("seq")
          .limit(1),
      );
      const first = found.docs[0];
      if (first) next = { ref: first.ref, doc: first.data() as MessageDoc };
    }
    return { ref, line, next, wasHead: before.head };
  }

  /** Writes what {@link planFinish} found: one fewer open, and the head handed to the next message. */
  applyFinish(tx: Transaction, plan: FinishPlan | undefined): void {
    if (!plan) return;
    const open = Math.max(0, plan.line.open - 1);
    const headCreatedAt = plan.wasHead ? (plan.next?.doc.createdAt ?? null) : plan.line.headCreatedAt;
    tx.update(plan.ref, { open, headCreatedAt: open === 0 ? null : headCreatedAt });
    if (plan.wasHead && plan.next) tx.update(plan.next.ref, { head: true });
  }
}
