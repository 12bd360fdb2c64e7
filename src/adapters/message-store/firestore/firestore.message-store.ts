import type { CollectionReference, DocumentReference, Transaction } from "firebase-admin/firestore";
import { earlyStatusLimits, earlyStatusToKeep, type EarlyStatusOptions } from "../../../domain/early-statuses.ts";
import { DomainError } from "../../../domain/errors.ts";
import { silentLogger, type Logger } from "../../../domain/ports/logger.port.ts";
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
import {
  CallGate,
  DEFAULT_CALL_TIMEOUT_MS,
  FirestoreApp,
  hashedId,
  KeyedChain,
  SequenceClock,
  type FirestoreLocation,
} from "../../shared/firestore/firestore-app.ts";
import { EarlyReports } from "./early-reports.ts";
import { docToMessage, docToStored, lineId, messageDoc, routeKey, type MessageDoc } from "./message-doc.ts";
import { headsOf, readRuns } from "./claim-runs.ts";
import { changedPage, depthsOfLines, listPage, mediaHeld } from "./message-reads.ts";
import { RecipientLines } from "./recipient-lines.ts";
import { SessionFence, type SessionFencing } from "./session-fence.ts";

export interface FirestoreMessageStoreOptions extends FirestoreLocation, EarlyStatusOptions {
  /** Top-level collection (default `gatewayQueue`); the store's documents live under `{collection}/{namespace}`. */
  readonly collection?: string;
  /** Default `default`: stores with other namespaces share nothing (tests, several gateways on one project). */
  readonly namespace?: string;
  /** When given, claims and attempt outcomes commit only while this instance holds the session's lease. */
  readonly fencing?: SessionFencing;
  readonly logger?: Logger;
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

/** Messages requeued per transaction at start (a transaction writes at most 500 documents). */
const REQUEUE_CHUNK = 200;

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
  readonly #logger: Logger;
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
    this.#logger = options.logger ?? silentLogger;
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
      // The report is committed: a failed prune only leaves a few reports over the cap until the next one.
      if (kept) {
        await this.#early.prune().catch((error: unknown) => {
          this.#logger.warn({ err: error, provider: update.provider }, "pruning early status reports failed");
        });
      }
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
    return this.#gate.run(() => mediaHeld(this.#messages, mediaId, since));
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
    return this.#gate.run(() => listPage(this.#messages, filter));
  }

  changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>> {
    return this.#gate.run(() => changedPage(this.#messages, since, limit, cursor));
  }

  queueDepths(now: Date): Promise<QueueDepth[]> {
    return this.#gate.run(() => depthsOfLines(this.#root.collection("lines"), now));
  }

  nextDueAt(route: Route): Promise<Date | undefined> {
    return this.#gate.run(async () => {
      const [first] = (await headsOf(this.#messages, route).orderBy("dueAt").limit(1).get()).docs;
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
      const runs = await readRuns(tx, this.#messages, route, count, now, window);
      return runs.map(({ ref, doc }) => {
        const next = afterClaim(docToStored(doc), leaseMs, now);
        this.#write(tx, ref, doc, next);
        return next.message;
      });
    });
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
