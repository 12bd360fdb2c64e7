import type { CollectionReference, DocumentReference, Query, Transaction } from "firebase-admin/firestore";
import { earlyStatusLimits, earlyStatusToKeep, type EarlyStatusOptions } from "../../../domain/early-statuses.ts";
import { DomainError } from "../../../domain/errors.ts";
import type { MessageMedia } from "../../../domain/media.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../../domain/message.ts";
import {
  acceptedOutbound,
  afterAttempt,
  afterClaim,
  afterRequeue,
  afterStatusReport,
  amended,
  earlyStatusesAppliedBy,
  receivedInbound,
  withMedia,
  type StoredMessage,
} from "../../../domain/message-lifecycle.ts";
import type {
  Amendment,
  AttemptOutcome,
  EnqueueResult,
  ListFilter,
  MessageStore,
  Page,
  QueueDepth,
  StatusApplied,
  StatusUpdate,
} from "../../../domain/ports/message-store.port.ts";
import { followersToRead, selectRuns, type RunCandidate } from "../../../domain/recipient-runs.ts";
import {
  CallGate,
  DEFAULT_CALL_TIMEOUT_MS,
  FirestoreApp,
  hashedId,
  KeyedChain,
  SequenceClock,
  type FirestoreLocation,
} from "../../shared/firestore/firestore-app.ts";
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from "../../shared/sqlite/cursor.ts";
import { EarlyReports } from "./early-reports.ts";
import { docToMessage, docToStored, lineId, messageDoc, type MessageDoc } from "./message-doc.ts";
import { RecipientLines, type LineDoc } from "./recipient-lines.ts";
import { SessionFence, type SessionFencing } from "./session-fence.ts";

export interface FirestoreMessageStoreOptions extends FirestoreLocation, EarlyStatusOptions {
  /** Top-level collection (default `gatewayQueue`); the store's documents live under `{collection}/{namespace}`. */
  readonly collection?: string;
  /** Default `default`: stores with other namespaces share nothing (tests, several gateways on one project). */
  readonly namespace?: string;
  /** When given, claims and attempt outcomes commit only while this instance holds the session's lease. */
  readonly fencing?: SessionFencing;
}

/** Who an idempotency key document names. */
interface KeyDoc {
  readonly key: string;
  readonly fingerprint: string;
  readonly messageId: string;
}

/** Which messages carry a provider id, one document per (provider, provider id). */
interface ProviderIdDoc {
  readonly outbound?: string;
  readonly inbound?: string;
}

const MAX_LIST_LIMIT = 1000;
/** Messages requeued per transaction at start (a transaction writes at most 500 documents). */
const REQUEUE_CHUNK = 200;

interface DocCandidate extends RunCandidate {
  readonly ref: DocumentReference;
  readonly doc: MessageDoc;
}

/**
 * The MessageStore on Cloud Firestore, shared by every instance of a
 * cluster. The rules of a message's life are the domain's, as in the SQLite
 * store; this store queries and persists, each change in one transaction.
 * Layout under `{collection}/{namespace}` (see docs/firestore-queue.md and
 * firestore.indexes.json beside this file):
 *
 * - `messages/{id}`: the message as JSON plus the fields queries use
 *   (message-doc.ts), among them `head`, set on each recipient's oldest
 *   unfinished message so a claim reads only heads.
 * - `lines/{hash(provider, session, to)}`: per recipient, the last `seq`
 *   and how many messages are open (recipient-lines.ts).
 * - `idempotency/{hash(key)}`: the message an Idempotency-Key accepted.
 * - `providerIds/{hash(provider, id)}`: the outbound and inbound message
 *   that carry a provider id (receipts, inbound dedupe, lookups).
 * - `early/{hash(provider, id)}`: early status reports (early-reports.ts).
 */
export class FirestoreMessageStore implements MessageStore {
  readonly #app: FirestoreApp;
  readonly #root: DocumentReference;
  readonly #messages: CollectionReference;
  readonly #lines: RecipientLines;
  readonly #early: EarlyReports;
  readonly #limits: ReturnType<typeof earlyStatusLimits>;
  readonly #fence: SessionFence | undefined;
  readonly #clock = new SequenceClock();
  readonly #chain = new KeyedChain();
  readonly #gate: CallGate;

  constructor(options: FirestoreMessageStoreOptions) {
    this.#gate = new CallGate("message store", options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.#app = new FirestoreApp(options, "message-store");
    const db = this.#app.db;
    this.#root = db.collection(options.collection ?? "gatewayQueue").doc(options.namespace ?? "default");
    this.#messages = this.#root.collection("messages");
    this.#lines = new RecipientLines(this.#root.collection("lines"), this.#messages);
    this.#limits = earlyStatusLimits(options);
    this.#early = new EarlyReports(this.#root.collection("early"), this.#limits);
    this.#fence = options.fencing && new SessionFence(db, options.fencing);
  }

  enqueue(message: NewOutboundMessage): Promise<EnqueueResult> {
    const line = lineId(message);
    const run = (): Promise<EnqueueResult> => this.#chain.run(`line:${line}`, () => this.#enqueue(message, line));
    return this.#gate.run(() => (message.idempotency ? this.#chain.run(`key:${message.idempotency.key}`, run) : run()));
  }

  claim(route: Route, limit: number, leaseMs: number, now: Date, window = 1): Promise<Message[]> {
    return this.#gate.run(() => this.#claim(route, limit, leaseMs, now, window));
  }

  recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const { ref, doc } = await this.#require(tx, id);
        const stored = docToStored(doc);
        if (this.#fence) await this.#fence.check(tx, stored.message);
        const key = earlyStatusesAppliedBy(stored, outcome);
        const early = key === undefined ? [] : await this.#early.read(tx, key);
        const next = afterAttempt(stored, outcome, now, early, this.#limits);
        if (next === stored) return stored.message;
        await this.#persist(tx, ref, doc, next);
        if (key !== undefined && early.length > 0) this.#early.forget(tx, key);
        return next.message;
      }),
    );
  }

  applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined> {
    return this.#gate.run(async () => {
      let kept = false;
      const applied = await this.#transact(async (tx): Promise<StatusApplied | undefined> => {
        kept = false;
        let found: { ref: DocumentReference; doc: MessageDoc } | undefined;
        if (update.providerMessageId !== undefined) {
          const ids = await this.#providerIds(tx, update.provider, update.providerMessageId);
          if (ids.outbound !== undefined) found = await this.#read(tx, ids.outbound);
        }
        if (!found && update.messageId !== undefined) found = await this.#read(tx, update.messageId);
        if (!found) {
          const early = earlyStatusToKeep(update, now);
          if (early) {
            this.#early.keep(tx, await this.#early.read(tx, early), early, now);
            kept = true;
          }
          return undefined;
        }
        const { stored, reached } = afterStatusReport(docToStored(found.doc), update, now);
        if (reached.length === 0) return { message: stored.message, reached };
        await this.#persist(tx, found.ref, found.doc, stored);
        return { message: stored.message, reached };
      });
      if (kept) await this.#early.prune();
      return applied;
    });
  }

  recordInbound(message: NewInboundMessage): Promise<{ readonly message: Message; readonly created: boolean }> {
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const ids = await this.#providerIds(tx, message.provider, message.providerMessageId);
        const existing = ids.inbound === undefined ? undefined : await this.#read(tx, ids.inbound);
        if (existing) return { message: docToMessage(existing.doc), created: false };
        const stored = receivedInbound(message);
        const doc = messageDoc(stored, this.#clock.next(), false);
        tx.create(this.#messages.doc(message.id), doc);
        tx.set(
          this.#providerIdRef(message.provider, message.providerMessageId),
          { inbound: message.id },
          { merge: true },
        );
        return { message: stored.message, created: true };
      }),
    );
  }

  updateMedia(id: string, media: readonly MessageMedia[], now: Date): Promise<Message | undefined> {
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const found = await this.#read(tx, id);
        if (!found) return undefined;
        const next = withMedia(docToStored(found.doc), media, now);
        await this.#persist(tx, found.ref, found.doc, next);
        return next.message;
      }),
    );
  }

  amend(
    id: string,
    amendment: Amendment,
    now: Date,
  ): Promise<{ readonly message: Message; readonly changed: boolean } | undefined> {
    return this.#gate.run(() =>
      this.#transact(async (tx) => {
        const found = await this.#read(tx, id);
        if (!found) return undefined;
        const next = amended(docToStored(found.doc), amendment, now);
        if (!next) return { message: docToMessage(found.doc), changed: false };
        await this.#persist(tx, found.ref, found.doc, next);
        return { message: next.message, changed: true };
      }),
    );
  }

  findByProviderMessageId(provider: string, providerMessageId: string): Promise<Message | undefined> {
    return this.#gate.run(async () => {
      const snap = await this.#providerIdRef(provider, providerMessageId).get();
      const ids = snap.exists ? (snap.data() as ProviderIdDoc) : {};
      const refs = [ids.outbound, ids.inbound].flatMap((id) => (id === undefined ? [] : [this.#messages.doc(id)]));
      if (refs.length === 0) return undefined;
      const docs = (await this.#app.db.getAll(...refs)).flatMap((s) => (s.exists ? [s.data() as MessageDoc] : []));
      const newest = docs.sort((a, b) => b.seq - a.seq)[0];
      return newest && docToMessage(newest);
    });
  }

  mediaInUse(mediaId: string, since: Date): Promise<boolean> {
    return this.#gate.run(async () => {
      const holders = this.#messages.where("mediaIds", "array-contains", mediaId);
      const [waiting, recent] = await Promise.all([
        holders.where("unfinished", "==", true).limit(1).select().get(),
        holders.where("updatedAt", ">=", since.getTime()).limit(1).select().get(),
      ]);
      return !waiting.empty || !recent.empty;
    });
  }

  requeueInFlight(now: Date): Promise<number> {
    return this.#gate.run(async () => {
      const inFlight = await this.#messages.where("status", "==", "sending").select().get();
      let requeued = 0;
      for (let i = 0; i < inFlight.docs.length; i += REQUEUE_CHUNK) {
        const refs = inFlight.docs.slice(i, i + REQUEUE_CHUNK).map((d) => d.ref);
        requeued += await this.#transact(async (tx) => {
          const snaps = await tx.getAll(...refs);
          const docs = snaps.flatMap((s) => (s.exists && s.get("status") === "sending" ? [s] : []));
          const held = await this.#heldRoutes(
            tx,
            docs.map((s) => s.data() as MessageDoc),
          );
          let count = 0;
          for (const snap of docs) {
            const doc = snap.data() as MessageDoc;
            if (!held.has(routeKey(doc))) continue;
            this.#write(tx, snap.ref, doc, afterRequeue(docToStored(doc), now));
            count += 1;
          }
          return count;
        });
      }
      return requeued;
    });
  }

  get(id: string): Promise<Message | undefined> {
    return this.#gate.run(async () => {
      const snap = await this.#messages.doc(id).get();
      return snap.exists ? docToMessage(snap.data() as MessageDoc) : undefined;
    });
  }

  list(filter: ListFilter): Promise<Page<Message>> {
    return this.#gate.run(async () => {
      const limit = clampLimit(filter.limit);
      let query: Query = this.#messages;
      if (filter.direction !== undefined) query = query.where("direction", "==", filter.direction);
      if (filter.status !== undefined) query = query.where("status", "==", filter.status);
      if (filter.session !== undefined) query = query.where("session", "==", filter.session);
      query = query.orderBy("seq", "desc");
      if (filter.cursor !== undefined) query = query.startAfter(decodeCursor(filter.cursor));
      const docs = (await query.limit(limit + 1).get()).docs.map((d) => d.data() as MessageDoc);
      const page = docs.slice(0, limit);
      const last = page.at(-1);
      return { items: page.map(docToMessage), nextCursor: docs.length > limit && last ? encodeCursor(last.seq) : null };
    });
  }

  changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>> {
    return this.#gate.run(async () => {
      const count = clampLimit(limit);
      let query = this.#messages.where("updatedAt", ">=", since.getTime()).orderBy("updatedAt").orderBy("seq");
      if (cursor !== undefined) {
        const after = decodeTimeCursor(cursor);
        query = query.startAfter(after.at, after.seq);
      }
      const docs = (await query.limit(count + 1).get()).docs.map((d) => d.data() as MessageDoc);
      const page = docs.slice(0, count);
      const last = page.at(-1);
      const nextCursor = docs.length > count && last ? encodeTimeCursor(last.updatedAt, last.seq) : null;
      return { items: page.map(docToMessage), nextCursor };
    });
  }

  queueDepths(now: Date): Promise<QueueDepth[]> {
    return this.#gate.run(async () => {
      // One read per recipient with messages waiting, never one per message.
      const lines = await this.#root.collection("lines").where("open", ">", 0).get();
      const routes = new Map<string, { provider: string; session: string; depth: number; oldest: number }>();
      for (const snap of lines.docs) {
        const line = snap.data() as LineDoc;
        const key = routeKey(line);
        const route = routes.get(key) ?? { provider: line.provider, session: line.session, depth: 0, oldest: Infinity };
        route.depth += line.open;
        route.oldest = Math.min(route.oldest, line.headCreatedAt ?? Infinity);
        routes.set(key, route);
      }
      return [...routes.values()]
        .sort((a, b) => a.provider.localeCompare(b.provider) || a.session.localeCompare(b.session))
        .map(({ provider, session, depth, oldest }) => ({
          provider,
          session,
          depth,
          oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, now.getTime() - oldest) : 0,
        }));
    });
  }

  nextDueAt(route: Route): Promise<Date | undefined> {
    return this.#gate.run(async () => {
      const [first] = (await this.#heads(route).orderBy("dueAt").limit(1).get()).docs;
      const due = first?.get("dueAt") as number | null | undefined;
      return due == null ? undefined : new Date(due);
    });
  }

  ping(): Promise<void> {
    return this.#gate.run(async () => {
      await this.#root.get();
    });
  }

  async close(): Promise<void> {
    if (await this.#gate.close()) await this.#app.close();
  }

  async #enqueue(message: NewOutboundMessage, line: string): Promise<EnqueueResult> {
    return this.#transact(async (tx): Promise<EnqueueResult> => {
      const idempotency = message.idempotency;
      const keyRef = idempotency && this.#root.collection("idempotency").doc(hashedId(idempotency.key));
      if (keyRef && idempotency) {
        const key = await tx.get(keyRef);
        if (key.exists) {
          const { fingerprint, messageId } = key.data() as KeyDoc;
          const first = await this.#read(tx, messageId);
          if (first) {
            const kind = fingerprint === idempotency.fingerprint ? "existing" : "conflict";
            return { kind, message: docToMessage(first.doc) };
          }
        }
      }
      const current = await this.#lines.read(tx, line);
      const stored = acceptedOutbound(message);
      const doc = messageDoc(stored, this.#clock.next(current?.lastSeq), (current?.open ?? 0) === 0);
      tx.create(this.#messages.doc(message.id), doc);
      this.#lines.writeAccepted(tx, line, current, doc, message.to);
      if (keyRef && idempotency) {
        const key: KeyDoc = { key: idempotency.key, fingerprint: idempotency.fingerprint, messageId: message.id };
        tx.set(keyRef, key);
      }
      return { kind: "created", message: stored.message };
    });
  }

  async #claim(route: Route, limit: number, leaseMs: number, now: Date, window: number): Promise<Message[]> {
    const count = Math.floor(limit);
    if (!(count >= 1)) return [];
    return this.#transact(async (tx) => {
      if (this.#fence) await this.#fence.check(tx, route);
      // The due heads, soonest due first: among more due recipients than the
      // limit, those waiting longest go first (SQLite takes the oldest
      // accepted; per recipient the order is the same either way).
      const heads = await tx.get(
        this.#heads(route).where("dueAt", "<=", now.getTime()).orderBy("dueAt").orderBy("seq").limit(count),
      );
      const followers = followersToRead(count, heads.size, window);
      const queues = await Promise.all(
        heads.docs.map(async (head) => {
          const doc = head.data() as MessageDoc;
          const queue = [candidate(head.ref, doc)];
          if (followers > 0 && doc.line !== null) {
            const after = await tx.get(
              this.#messages
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
      return selectRuns(queues, count, window, now).map(({ ref, doc }) => {
        const next = afterClaim(docToStored(doc), leaseMs, now);
        this.#write(tx, ref, doc, next);
        return next.message;
      });
    });
  }

  #heads(route: Route): Query {
    return this.#messages
      .where("provider", "==", route.provider)
      .where("session", "==", route.session)
      .where("head", "==", true);
  }

  /** The routes among `docs` whose writes this instance may make: all of them without fencing. */
  async #heldRoutes(tx: Transaction, docs: readonly MessageDoc[]): Promise<Set<string>> {
    const routes = new Map(docs.map((doc) => [routeKey(doc), { provider: doc.provider, session: doc.session }]));
    if (!this.#fence) return new Set(routes.keys());
    const held = new Set<string>();
    for (const [key, route] of routes) {
      const holds = await this.#fence.check(tx, route).then(
        () => true,
        (error: unknown) => {
          if (error instanceof DomainError && error.code === "SESSION.LEASE_LOST") return false;
          throw error;
        },
      );
      if (holds) held.add(key);
    }
    return held;
  }

  /** Persists `next`, after the reads it needs when it takes the message out of the queue. */
  async #persist(tx: Transaction, ref: DocumentReference, before: MessageDoc, next: StoredMessage): Promise<void> {
    const plan = await this.#lines.planFinish(tx, before, next);
    this.#write(tx, ref, before, next);
    this.#lines.applyFinish(tx, plan);
    const id = next.message.providerMessageId;
    if (before.providerMessageId !== id && id !== null && next.message.direction === "outbound") {
      tx.set(this.#providerIdRef(next.message.provider, id), { outbound: next.message.id }, { merge: true });
    }
  }

  /** Writes the message's new state; no line changes (a move between queued and sending, or a finished message). */
  #write(tx: Transaction, ref: DocumentReference, before: MessageDoc, next: StoredMessage): void {
    tx.set(ref, messageDoc(next, before.seq, before.head));
  }

  async #read(tx: Transaction, id: string): Promise<{ ref: DocumentReference; doc: MessageDoc } | undefined> {
    const ref = this.#messages.doc(id);
    const snap = await tx.get(ref);
    return snap.exists ? { ref, doc: snap.data() as MessageDoc } : undefined;
  }

  async #require(tx: Transaction, id: string): Promise<{ ref: DocumentReference; doc: MessageDoc }> {
    const found = await this.#read(tx, id);
    if (!found) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    return found;
  }

  async #providerIds(tx: Transaction, provider: string, providerMessageId: string): Promise<ProviderIdDoc> {
    const snap = await tx.get(this.#providerIdRef(provider, providerMessageId));
    return snap.exists ? (snap.data() as ProviderIdDoc) : {};
  }

  #providerIdRef(provider: string, providerMessageId: string): DocumentReference {
    return this.#root.collection("providerIds").doc(hashedId(provider, providerMessageId));
  }

  #transact<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#app.db.runTransaction(work, { maxAttempts: 20 });
  }
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

function routeKey(route: Route): string {
  return `${route.provider}\u0000${route.session}`;
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}
