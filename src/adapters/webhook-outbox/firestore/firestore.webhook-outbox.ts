import type { CollectionReference, DocumentReference, Query, Transaction } from "firebase-admin/firestore";
import { DomainError } from "../../../domain/errors.ts";
import type { Page } from "../../../domain/ports/message-store.port.ts";
import type {
  OutboxTimeline,
  WebhookDeliveryFilter,
  WebhookFailure,
  WebhookOutbox,
  WebhookRetryResult,
} from "../../../domain/ports/webhook-outbox.port.ts";
import type { NewWebhookDelivery, WebhookDelivery } from "../../../domain/webhook-delivery.ts";
import {
  CallGate,
  DEFAULT_CALL_TIMEOUT_MS,
  FirestoreApp,
  hashedId,
  KeyedChain,
  SequenceClock,
  type FirestoreLocation,
} from "../../shared/firestore/firestore-app.ts";
import { decodeCursor, encodeCursor } from "../../shared/sqlite/cursor.ts";
import { changed, docToDelivery, type DeliveryDoc } from "./delivery-doc.ts";
import { OrderingKeys } from "./ordering-keys.ts";

export interface FirestoreWebhookOutboxOptions extends FirestoreLocation {
  /** Top-level collection (default `gatewayWebhooks`); the outbox lives under `{collection}/{namespace}`. */
  readonly collection?: string;
  /** Default `default`: outboxes with other namespaces share nothing. */
  readonly namespace?: string;
}

/** The outbox's own document: `{collection}/{namespace}`. */
interface TimelineDoc {
  readonly createdAt: number;
  /** Enqueue time of the newest delivery purged. */
  readonly purgedThrough?: number;
}

const MAX_LIST_LIMIT = 1000;
const MAX_ERROR_CHARS = 500;
/** Deletes per purge transaction (a transaction writes at most 500 documents, one is the timeline). */
const MAX_PURGE = 400;
const REQUEUE_CHUNK = 400;

/**
 * The WebhookOutbox on Cloud Firestore, shared by every instance of a
 * cluster: a delivery queued by one instance is delivered by any, also
 * after the death of the one that queued it (its lease runs out). Layout
 * under `{collection}/{namespace}`: `deliveries/{id}` (delivery-doc.ts) and
 * `keys/{hash(orderingKey)}` (ordering-keys.ts); the namespace document
 * itself keeps the timeline. Each change is one transaction.
 */
export class FirestoreWebhookOutbox implements WebhookOutbox {
  readonly #app: FirestoreApp;
  readonly #root: DocumentReference;
  readonly #deliveries: CollectionReference;
  readonly #keys: OrderingKeys;
  readonly #clock = new SequenceClock();
  readonly #chain = new KeyedChain();
  readonly #gate: CallGate;
  readonly #created: Promise<void>;

  constructor(options: FirestoreWebhookOutboxOptions) {
    this.#gate = new CallGate("webhook outbox", options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.#app = new FirestoreApp(options, "webhook-outbox");
    this.#root = this.#app.db.collection(options.collection ?? "gatewayWebhooks").doc(options.namespace ?? "default");
    this.#deliveries = this.#root.collection("deliveries");
    this.#keys = new OrderingKeys(this.#root.collection("keys"), this.#deliveries);
    this.#created = this.#transact(async (tx) => {
      if (!(await tx.get(this.#root)).exists) tx.set(this.#root, { createdAt: Date.now() } satisfies TimelineDoc);
    });
    // Failing here surfaces on timeline(); do not leave an unhandled rejection meanwhile.
    this.#created.catch(() => undefined);
  }

  enqueue(delivery: NewWebhookDelivery): Promise<WebhookDelivery> {
    const keyId = hashedId(delivery.orderingKey);
    return this.#gate.run(() =>
      this.#chain.run(keyId, () =>
        this.#transact(async (tx) => {
          const key = await this.#keys.read(tx, keyId);
          const at = delivery.at.getTime();
          const doc = changed(
            {
              id: delivery.id,
              eventId: delivery.eventId,
              type: delivery.type,
              orderingKey: delivery.orderingKey,
              key: keyId,
              status: "pending",
              attempts: 0,
              lastError: null,
              nextAttemptAt: at,
              leaseUntil: null,
              leased: false,
              dueAt: at,
              head: (key?.pending ?? 0) === 0,
              seq: this.#clock.next(key?.lastSeq),
              createdAt: at,
              updatedAt: at,
              body: delivery.body,
            },
            {},
          );
          tx.create(this.#deliveries.doc(delivery.id), doc);
          this.#keys.writeEnqueued(tx, key, doc);
          return docToDelivery(doc);
        }),
      ),
    );
  }

  claimDue(limit: number, leaseMs: number, now: Date): Promise<WebhookDelivery[]> {
    const count = Math.floor(limit);
    if (!(count >= 1)) return this.#gate.run(async () => []);
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const at = now.getTime();
        const due = await tx.get(this.#heads().where("dueAt", "<=", at).orderBy("dueAt").orderBy("seq").limit(count));
        const leaseUntil = at + Math.max(0, leaseMs);
        return due.docs
          .map((snap) => snap.data() as DeliveryDoc)
          .sort((a, b) => a.seq - b.seq)
          .map((doc) => {
            const next = changed(doc, { leaseUntil });
            tx.set(this.#deliveries.doc(doc.id), next);
            return docToDelivery(next);
          });
      }),
    );
  }

  recordSuccess(id: string, now: Date): Promise<WebhookDelivery> {
    return this.#finish(id, now, { status: "delivered", nextAttemptAt: null });
  }

  recordFailure(id: string, failure: WebhookFailure, now: Date): Promise<WebhookDelivery> {
    const lastError = failure.error.slice(0, MAX_ERROR_CHARS);
    if (failure.kind === "park") return this.#finish(id, now, { status: "failed", lastError, nextAttemptAt: null });
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const doc = await this.#require(tx, id);
        const next = changed(doc, {
          attempts: doc.attempts + 1,
          lastError,
          nextAttemptAt: failure.nextAttemptAt.getTime(),
          leaseUntil: null,
          updatedAt: now.getTime(),
        });
        tx.set(this.#deliveries.doc(id), next);
        return docToDelivery(next);
      }),
    );
  }

  retry(id: string, now: Date): Promise<WebhookRetryResult> {
    return this.#gate.run(() =>
      this.#transact(async (tx): Promise<WebhookRetryResult> => {
        const snap = await tx.get(this.#deliveries.doc(id));
        if (!snap.exists) return { kind: "not_found" };
        const doc = snap.data() as DeliveryDoc;
        if (doc.status !== "failed") return { kind: "not_parked", delivery: docToDelivery(doc) };
        const plan = await this.#keys.planReturn(tx, doc);
        const head = this.#keys.applyReturn(tx, plan, doc);
        const at = now.getTime();
        const next = changed(doc, {
          status: "pending",
          attempts: 0,
          nextAttemptAt: at,
          leaseUntil: null,
          updatedAt: at,
          head,
        });
        tx.set(this.#deliveries.doc(id), next);
        return { kind: "requeued", delivery: docToDelivery(next) };
      }),
    );
  }

  requeueInFlight(now: Date): Promise<number> {
    return this.#gate.run(async () => {
      const leased = await this.#deliveries.where("leased", "==", true).select().get();
      let released = 0;
      for (let i = 0; i < leased.docs.length; i += REQUEUE_CHUNK) {
        const refs = leased.docs.slice(i, i + REQUEUE_CHUNK).map((d) => d.ref);
        released += await this.#transact(async (tx) => {
          const docs = (await tx.getAll(...refs)).flatMap((s) => (s.exists ? [s.data() as DeliveryDoc] : []));
          const held = docs.filter((doc) => doc.leased);
          for (const doc of held) {
            tx.set(this.#deliveries.doc(doc.id), changed(doc, { leaseUntil: null, updatedAt: now.getTime() }));
          }
          return held.length;
        });
      }
      return released;
    });
  }

  get(id: string): Promise<WebhookDelivery | undefined> {
    return this.#gate.run(async () => {
      const snap = await this.#deliveries.doc(id).get();
      return snap.exists ? docToDelivery(snap.data() as DeliveryDoc) : undefined;
    });
  }

  list(filter: WebhookDeliveryFilter): Promise<Page<WebhookDelivery>> {
    return this.#gate.run(async () => {
      const limit = Number.isFinite(filter.limit)
        ? Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(filter.limit)))
        : MAX_LIST_LIMIT;
      let query: Query = this.#deliveries;
      if (filter.status !== undefined) query = query.where("status", "==", filter.status);
      query = query.orderBy("seq", "desc");
      if (filter.cursor !== undefined) query = query.startAfter(decodeCursor(filter.cursor));
      const docs = (await query.limit(limit + 1).get()).docs.map((d) => d.data() as DeliveryDoc);
      const page = docs.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(docToDelivery),
        nextCursor: docs.length > limit && last ? encodeCursor(last.seq) : null,
      };
    });
  }

  latestBodies(orderingKeys: readonly string[]): Promise<Map<string, string>> {
    return this.#gate.run(async () => {
      const bodies = new Map<string, string>();
      // One query per key, one read each: the newest delivery kept for it.
      const newest = await Promise.all(
        [...new Set(orderingKeys)].map(async (orderingKey) => {
          const found = await this.#deliveries
            .where("key", "==", hashedId(orderingKey))
            .orderBy("seq", "desc")
            .limit(1)
            .select("body")
            .get();
          return [orderingKey, found.docs[0]?.get("body") as string | undefined] as const;
        }),
      );
      for (const [key, body] of newest) if (body !== undefined) bodies.set(key, body);
      return bodies;
    });
  }

  timeline(): Promise<OutboxTimeline> {
    return this.#gate.run(async () => {
      await this.#created;
      const [root, newest] = await Promise.all([
        this.#root.get(),
        this.#deliveries.orderBy("seq", "desc").limit(1).select("createdAt").get(),
      ]);
      const marks = root.data() as TimelineDoc;
      const newestAt = newest.docs[0]?.get("createdAt") as number | undefined;
      const last = Math.max(newestAt ?? -Infinity, marks.purgedThrough ?? -Infinity);
      return {
        createdAt: new Date(marks.createdAt),
        lastEnqueuedAt: Number.isFinite(last) ? new Date(last) : undefined,
      };
    });
  }

  nextDueAt(): Promise<Date | undefined> {
    return this.#gate.run(async () => {
      const [first] = (await this.#heads().orderBy("dueAt").limit(1).get()).docs;
      const due = first?.get("dueAt") as number | null | undefined;
      return due == null ? undefined : new Date(due);
    });
  }

  purgeDelivered(before: Date, limit: number): Promise<number> {
    const count = Math.min(MAX_PURGE, Math.max(0, Math.floor(limit)));
    if (count === 0) return this.#gate.run(async () => 0);
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const old = await tx.get(
          this.#deliveries
            .where("status", "==", "delivered")
            .where("updatedAt", "<", before.getTime())
            .orderBy("updatedAt")
            .limit(count),
        );
        if (old.empty) return 0;
        const marks = (await tx.get(this.#root)).data() as TimelineDoc | undefined;
        const newest = Math.max(...old.docs.map((d) => d.get("createdAt") as number));
        tx.set(this.#root, { purgedThrough: Math.max(marks?.purgedThrough ?? newest, newest) }, { merge: true });
        for (const snap of old.docs) tx.delete(snap.ref);
        return old.size;
      }),
    );
  }

  async close(): Promise<void> {
    if (!(await this.#gate.close())) return;
    await this.#created.catch(() => undefined);
    await this.#app.close();
  }

  /** Takes a delivery out of the pending ones (delivered or parked), counting the attempt. */
  #finish(id: string, now: Date, change: Partial<DeliveryDoc>): Promise<WebhookDelivery> {
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const doc = await this.#require(tx, id);
        const plan = doc.status === "pending" ? await this.#keys.planFinish(tx, doc) : undefined;
        const next = changed(doc, {
          ...change,
          attempts: doc.attempts + 1,
          leaseUntil: null,
          updatedAt: now.getTime(),
        });
        tx.set(this.#deliveries.doc(id), next);
        this.#keys.applyFinish(tx, plan, doc);
        return docToDelivery(next);
      }),
    );
  }

  #heads(): Query {
    return this.#deliveries.where("head", "==", true);
  }

  async #require(tx: Transaction, id: string): Promise<DeliveryDoc> {
    const snap = await tx.get(this.#deliveries.doc(id));
    if (!snap.exists) throw new DomainError("WEBHOOK.DELIVERY_NOT_FOUND", `webhook delivery ${id} not found`);
    return snap.data() as DeliveryDoc;
  }

  #transact<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#app.db.runTransaction(work, { maxAttempts: 20 });
  }
}
