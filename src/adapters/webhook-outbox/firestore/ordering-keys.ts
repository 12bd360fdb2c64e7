import type { CollectionReference, DocumentReference, Transaction } from "firebase-admin/firestore";
import type { DeliveryDoc } from "./delivery-doc.ts";

/**
 * One document of `keys` per ordering key: where every change to which of
 * its deliveries are pending meets (enqueue, delivered, parked, replayed),
 * so instances doing them at once are serialized by Firestore and `head`
 * stays on exactly the oldest pending delivery. Claims and retries never
 * touch it: the delivery stays pending.
 */
export interface KeyDoc {
  readonly orderingKey: string;
  readonly lastSeq: number;
  readonly pending: number;
  /** The head's id and seq; null when nothing is pending. */
  readonly headId: string | null;
  readonly headSeq: number | null;
}

/** What a change of a delivery's pending state does to its key, read before the transaction writes. */
export interface KeyPlan {
  readonly ref: DocumentReference;
  readonly key: KeyDoc;
  /** Finishing the head: the next pending delivery, if any. Replaying: the head it takes over from. */
  readonly other: DeliveryDoc | undefined;
}

export class OrderingKeys {
  readonly #keys: CollectionReference;
  readonly #deliveries: CollectionReference;

  constructor(keys: CollectionReference, deliveries: CollectionReference) {
    this.#keys = keys;
    this.#deliveries = deliveries;
  }

  async read(tx: Transaction, id: string): Promise<KeyDoc | undefined> {
    const snap = await tx.get(this.#keys.doc(id));
    return snap.exists ? (snap.data() as KeyDoc) : undefined;
  }

  /** Records a new pending delivery on its key (read as `key`); it is the head when nothing else is pending. */
  writeEnqueued(tx: Transaction, key: KeyDoc | undefined, doc: DeliveryDoc): void {
    const head = (key?.pending ?? 0) === 0;
    const next: KeyDoc = {
      orderingKey: doc.orderingKey,
      lastSeq: doc.seq,
      pending: (key?.pending ?? 0) + 1,
      headId: head ? doc.id : (key?.headId ?? null),
      headSeq: head ? doc.seq : (key?.headSeq ?? null),
    };
    tx.set(this.#keys.doc(doc.key), next);
  }

  /** The reads for taking pending `doc` out (delivered or parked). */
  async planFinish(tx: Transaction, doc: DeliveryDoc): Promise<KeyPlan | undefined> {
    const ref = this.#keys.doc(doc.key);
    const snap = await tx.get(ref);
    if (!snap.exists) return undefined;
    const key = snap.data() as KeyDoc;
    let other: DeliveryDoc | undefined;
    if (doc.head && key.pending > 1) {
      const next = await tx.get(
        this.#deliveries
          .where("key", "==", doc.key)
          .where("status", "==", "pending")
          .where("seq", ">", doc.seq)
          .orderBy("seq")
          .limit(1),
      );
      other = next.docs[0]?.data() as DeliveryDoc | undefined;
    }
    return { ref, key, other };
  }

  /** Writes what {@link planFinish} found: one fewer pending, the head handed on. */
  applyFinish(tx: Transaction, plan: KeyPlan | undefined, doc: DeliveryDoc): void {
    if (!plan) return;
    const pending = Math.max(0, plan.key.pending - 1);
    if (!doc.head) {
      tx.update(plan.ref, { pending });
      return;
    }
    const next = pending > 0 ? plan.other : undefined;
    tx.update(plan.ref, { pending, headId: next?.id ?? null, headSeq: next?.seq ?? null });
    if (next) tx.update(this.#deliveries.doc(next.id), { head: true });
  }

  /** The reads for putting parked `doc` back to pending (a replay): it may be older than the current head. */
  async planReturn(tx: Transaction, doc: DeliveryDoc): Promise<KeyPlan> {
    const ref = this.#keys.doc(doc.key);
    const snap = await tx.get(ref);
    const key: KeyDoc = snap.exists
      ? (snap.data() as KeyDoc)
      : { orderingKey: doc.orderingKey, lastSeq: doc.seq, pending: 0, headId: null, headSeq: null };
    let other: DeliveryDoc | undefined;
    if (key.pending > 0 && key.headId !== null && (key.headSeq ?? 0) > doc.seq) {
      const head = await tx.get(this.#deliveries.doc(key.headId));
      other = head.exists ? (head.data() as DeliveryDoc) : undefined;
    }
    return { ref, key, other };
  }

  /** Writes what {@link planReturn} found; returns whether `doc` is now its key's head. */
  applyReturn(tx: Transaction, plan: KeyPlan, doc: DeliveryDoc): boolean {
    const head = plan.key.pending === 0 || plan.other !== undefined;
    tx.set(plan.ref, {
      ...plan.key,
      pending: plan.key.pending + 1,
      headId: head ? doc.id : plan.key.headId,
      headSeq: head ? doc.seq : plan.key.headSeq,
    });
    if (plan.other) tx.update(this.#deliveries.doc(plan.other.id), { head: false });
    return head;
  }
}
