import { DomainError, type MessageError } from "../../src/domain/errors.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route, StatusChange } from "../../src/domain/message.ts";
import {
  canTransition,
  statusesPassed,
  type MessageStatus,
  type ProviderStatus,
} from "../../src/domain/message-status.ts";
import type {
  AttemptOutcome,
  EnqueueResult,
  ListFilter,
  MessageStore,
  Page,
  QueueDepth,
  StatusApplied,
  StatusUpdate,
} from "../../src/domain/ports/message-store.port.ts";
import {
  decodeCursor,
  decodeTimeCursor,
  encodeCursor,
  encodeTimeCursor,
} from "../../src/adapters/shared/sqlite/cursor.ts";

interface Entry {
  readonly seq: number;
  message: Message;
  readonly fingerprint: string | null;
  readonly idempotencyKey: string | null;
  nextAttemptAt: number | null;
  leaseUntil: number | null;
}

/** A status report that matched no message, kept until recordAttempt stores its provider id. */
interface EarlyStatus {
  readonly provider: string;
  readonly providerMessageId: string;
  readonly status: ProviderStatus;
  readonly error: MessageError | undefined;
  readonly reportedAt: number;
}

export interface MemoryMessageStoreOptions {
  /** How long a status report that matched no message is kept (default 24 h), as in SqliteMessageStore. */
  readonly earlyStatusRetentionMs?: number;
  /** Most such reports kept, the oldest dropped first (default 10,000). */
  readonly maxEarlyStatuses?: number;
}

const UNFINISHED: readonly MessageStatus[] = ["queued", "sending"];
const GOT_THROUGH: readonly MessageStatus[] = ["sent", "delivered", "read"];

/**
 * The MessageStore in memory, for use-case tests. Same semantics as the SQLite
 * store (the contract suite runs against both), none of its durability.
 * Messages are copied in and out, so callers cannot alter stored state.
 */
export class MemoryMessageStore implements MessageStore {
  readonly #entries: Entry[] = [];
  readonly #byId = new Map<string, Entry>();
  /** In report order, oldest first. */
  #early: EarlyStatus[] = [];
  readonly #earlyRetentionMs: number;
  readonly #maxEarly: number;
  #closed = false;

  constructor(options: MemoryMessageStoreOptions = {}) {
    this.#earlyRetentionMs = Math.max(0, options.earlyStatusRetentionMs ?? 24 * 60 * 60 * 1000);
    this.#maxEarly = Math.max(0, Math.floor(options.maxEarlyStatuses ?? 10_000));
  }

  async enqueue(message: NewOutboundMessage): Promise<EnqueueResult> {
    this.#assertOpen();
    if (message.idempotency) {
      const existing = this.#entries.find((entry) => entry.idempotencyKey === message.idempotency?.key);
      if (existing) {
        const kind = existing.fingerprint === message.idempotency.fingerprint ? "existing" : "conflict";
        return { kind, message: copy(existing.message) };
      }
    }
    const at = message.at.toISOString();
    const entry = this.#add(
      {
        id: message.id,
        direction: "outbound",
        status: "queued",
        channel: message.channel,
        provider: message.provider,
        session: message.session,
        to: message.to,
        from: message.from,
        text: message.text,
        mediaUrls: [...message.mediaUrls],
        metadata: message.metadata === null ? null : structuredClone(message.metadata),
        providerMessageId: null,
        attempts: 0,
        error: null,
        createdAt: at,
        updatedAt: at,
        history: [{ status: "queued", at }],
      },
      message.idempotency,
    );
    entry.nextAttemptAt = message.at.getTime();
    return { kind: "created", message: copy(entry.message) };
  }

  async claim(route: Route, limit: number, leaseMs: number, now: Date, window = 1): Promise<Message[]> {
    this.#assertOpen();
    const t = now.getTime();
    const count = Math.max(0, Math.floor(limit));
    const runLength = Math.max(1, Math.floor(window));
    const isDue = (entry: Entry): boolean =>
      entry.message.status === "queued" ? (entry.nextAttemptAt ?? 0) <= t : (entry.leaseUntil ?? 0) <= t;
    const heads = this.#heads(route).filter(isDue).slice(0, count);
    const picked = [...heads];
    let room = count - picked.length;
    for (const head of heads) {
      if (room < 1 || runLength < 2) break;
      const after = this.#unfinished(route, head.message.to).slice(1, Math.min(runLength, room + 1));
      const notDue = after.findIndex((entry) => !isDue(entry));
      const run = notDue === -1 ? after : after.slice(0, notDue);
      picked.push(...run);
      room -= run.length;
    }
    picked.sort((a, b) => a.seq - b.seq);
    return picked.map((entry) => {
      this.#change(entry, { status: "sending" }, now);
      entry.leaseUntil = t + Math.max(0, leaseMs);
      return copy(entry.message);
    });
  }

  async recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    if (!entry) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    const inFlight = UNFINISHED.includes(entry.message.status);
    if (outcome.kind === "released") {
      if (!inFlight) return copy(entry.message);
      entry.leaseUntil = null;
      entry.nextAttemptAt = now.getTime();
      this.#change(entry, { status: "queued" }, now);
      return copy(entry.message);
    }
    const attempts = entry.message.attempts + 1;
    if (!inFlight && outcome.kind !== "sent") {
      this.#change(entry, { attempts }, now);
      return copy(entry.message);
    }
    entry.leaseUntil = null;
    if (outcome.kind === "sent") {
      const target = outcome.status ?? "sent";
      const status = inFlight || canTransition(entry.message.status, target) ? target : entry.message.status;
      entry.nextAttemptAt = null;
      this.#change(entry, { status, attempts, providerMessageId: outcome.providerMessageId }, now);
      this.#applyEarlyStatuses(entry, outcome.providerMessageId, now);
    } else if (outcome.kind === "retry") {
      entry.nextAttemptAt = outcome.nextAttemptAt.getTime();
      this.#change(entry, { status: "queued", attempts, error: outcome.error }, now);
    } else {
      entry.nextAttemptAt = null;
      this.#change(entry, { status: "failed", attempts, error: outcome.error }, now);
    }
    return copy(entry.message);
  }

  async applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined> {
    this.#assertOpen();
    let entry: Entry | undefined;
    if (update.providerMessageId !== undefined) {
      entry = this.#entries.findLast(
        (e) =>
          e.message.direction === "outbound" &&
          e.message.provider === update.provider &&
          e.message.providerMessageId === update.providerMessageId,
      );
    }
    if (!entry && update.messageId !== undefined) entry = this.#byId.get(update.messageId);
    if (!entry) {
      // Our own id can never match later; a provider id can, once recordAttempt stores it.
      if (update.providerMessageId !== undefined) this.#keepEarly(update, update.providerMessageId, now.getTime());
      return undefined;
    }
    const before = entry.message.status;
    if (!canTransition(before, update.status)) return { message: copy(entry.message), reached: [] };
    entry.leaseUntil = null;
    entry.nextAttemptAt = null;
    this.#change(
      entry,
      {
        status: update.status,
        providerMessageId: entry.message.providerMessageId ?? update.providerMessageId ?? null,
        ...(update.error ? { error: update.error } : {}),
      },
      now,
    );
    return { message: copy(entry.message), reached: statusesPassed(before, update.status) };
  }

  async recordInbound(message: NewInboundMessage): Promise<{ readonly message: Message; readonly created: boolean }> {
    this.#assertOpen();
    const existing = this.#entries.find(
      (e) =>
        e.message.direction === "inbound" &&
        e.message.provider === message.provider &&
        e.message.providerMessageId === message.providerMessageId,
    );
    if (existing) return { message: copy(existing.message), created: false };
    const at = message.at.toISOString();
    const entry = this.#add(
      {
        id: message.id,
        direction: "inbound",
        status: "received",
        channel: message.channel,
        provider: message.provider,
        session: message.session,
        to: message.to ?? "",
        from: message.from,
        text: message.text,
        mediaUrls: [...message.mediaUrls],
        metadata: null,
        providerMessageId: message.providerMessageId,
        attempts: 0,
        error: null,
        createdAt: at,
        updatedAt: at,
        history: [{ status: "received", at }],
      },
      null,
    );
    return { message: copy(entry.message), created: true };
  }

  async requeueInFlight(now: Date): Promise<number> {
    this.#assertOpen();
    const inFlight = this.#entries.filter((entry) => entry.message.status === "sending");
    for (const entry of inFlight) {
      entry.leaseUntil = null;
      entry.nextAttemptAt = now.getTime();
      this.#change(entry, { status: "queued" }, now);
    }
    return inFlight.length;
  }

  async get(id: string): Promise<Message | undefined> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    return entry && copy(entry.message);
  }

  async list(filter: ListFilter): Promise<Page<Message>> {
    this.#assertOpen();
    const limit = Number.isFinite(filter.limit) ? Math.min(1000, Math.max(1, Math.floor(filter.limit))) : 1000;
    const before = filter.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor(filter.cursor);
    const matching = this.#entries
      .filter(
        ({ seq, message: m }) =>
          seq < before &&
          (filter.direction === undefined || m.direction === filter.direction) &&
          (filter.status === undefined || m.status === filter.status) &&
          (filter.session === undefined || m.session === filter.session),
      )
      .reverse();
    const page = matching.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((entry) => copy(entry.message)),
      nextCursor: matching.length > limit && last ? encodeCursor(last.seq) : null,
    };
  }

  async changedSince(since: Date, limit: number, cursor?: string): Promise<Page<Message>> {
    this.#assertOpen();
    const count = Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 1000;
    const after =
      cursor === undefined ? { at: since.getTime() - 1, seq: Number.POSITIVE_INFINITY } : decodeTimeCursor(cursor);
    const changed = this.#entries
      .map((entry) => ({ entry, at: Date.parse(entry.message.updatedAt) }))
      .filter(({ entry, at }) => at > after.at || (at === after.at && entry.seq > after.seq))
      .sort((a, b) => a.at - b.at || a.entry.seq - b.entry.seq);
    const page = changed.slice(0, count);
    const last = changed.length > count ? page.at(-1) : undefined;
    return {
      items: page.map(({ entry }) => copy(entry.message)),
      nextCursor: last ? encodeTimeCursor(last.at, last.entry.seq) : null,
    };
  }

  async queueDepths(now: Date): Promise<QueueDepth[]> {
    this.#assertOpen();
    const depths = new Map<string, QueueDepth>();
    for (const { message: m } of this.#entries) {
      if (!UNFINISHED.includes(m.status)) continue;
      const key = JSON.stringify([m.provider, m.session]);
      const age = Math.max(0, now.getTime() - Date.parse(m.createdAt));
      const seen = depths.get(key);
      depths.set(key, {
        provider: m.provider,
        session: m.session,
        depth: (seen?.depth ?? 0) + 1,
        oldestAgeMs: Math.max(seen?.oldestAgeMs ?? 0, age),
      });
    }
    return [...depths.values()].sort(
      (a, b) => a.provider.localeCompare(b.provider) || a.session.localeCompare(b.session),
    );
  }

  async nextDueAt(route: Route): Promise<Date | undefined> {
    this.#assertOpen();
    const times = this.#heads(route).map((entry) =>
      entry.message.status === "queued" ? (entry.nextAttemptAt ?? 0) : (entry.leaseUntil ?? 0),
    );
    return times.length === 0 ? undefined : new Date(Math.min(...times));
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #keepEarly(update: StatusUpdate, providerMessageId: string, now: number): void {
    const oldest = now - this.#earlyRetentionMs;
    this.#early = this.#early.filter((early) => early.reportedAt >= oldest);
    this.#early.push({
      provider: update.provider,
      providerMessageId,
      status: update.status,
      error: update.error,
      reportedAt: now,
    });
    if (this.#early.length > this.#maxEarly) this.#early.splice(0, this.#early.length - this.#maxEarly);
  }

  /** Applies and forgets, in report order, what the provider said about this id before we knew it. */
  #applyEarlyStatuses(entry: Entry, providerMessageId: string, now: Date): void {
    const oldest = now.getTime() - this.#earlyRetentionMs;
    const matches = (early: EarlyStatus): boolean =>
      early.provider === entry.message.provider && early.providerMessageId === providerMessageId;
    const mine = this.#early.filter(matches);
    if (mine.length === 0) return;
    this.#early = this.#early.filter((early) => !matches(early));
    for (const early of mine) {
      if (early.reportedAt < oldest || !canTransition(entry.message.status, early.status)) continue;
      this.#change(entry, { status: early.status, ...(early.error ? { error: early.error } : {}) }, now);
    }
  }

  /** One recipient's unfinished messages on this route, in acceptance order. */
  #unfinished(route: Route, to: string): Entry[] {
    return this.#entries.filter(
      (e) =>
        e.message.provider === route.provider &&
        e.message.session === route.session &&
        e.message.to === to &&
        UNFINISHED.includes(e.message.status),
    );
  }

  /** Each recipient's oldest unfinished message on this route, in acceptance order. */
  #heads(route: Route): Entry[] {
    const seen = new Set<string>();
    const heads: Entry[] = [];
    for (const entry of this.#entries) {
      const m = entry.message;
      if (m.provider !== route.provider || m.session !== route.session || !UNFINISHED.includes(m.status)) continue;
      if (seen.has(m.to)) continue;
      seen.add(m.to);
      heads.push(entry);
    }
    return heads;
  }

  #add(message: Message, idempotency: NewOutboundMessage["idempotency"]): Entry {
    if (this.#byId.has(message.id)) throw new Error(`duplicate message id ${message.id}`);
    const entry: Entry = {
      seq: this.#entries.length + 1,
      message,
      fingerprint: idempotency?.fingerprint ?? null,
      idempotencyKey: idempotency?.key ?? null,
      nextAttemptAt: null,
      leaseUntil: null,
    };
    this.#entries.push(entry);
    this.#byId.set(message.id, entry);
    return entry;
  }

  #change(
    entry: Entry,
    change: { status?: MessageStatus; attempts?: number; error?: MessageError; providerMessageId?: string | null },
    now: Date,
  ): void {
    const m = entry.message;
    const status = change.status ?? m.status;
    const at = now.toISOString();
    const history: StatusChange[] =
      status === m.status
        ? [...m.history]
        : [...m.history, ...statusesPassed(m.status, status).map((passed) => ({ status: passed, at }))];
    const error = change.error ?? (GOT_THROUGH.includes(status) ? null : m.error);
    entry.message = {
      ...m,
      status,
      history,
      error,
      attempts: change.attempts ?? m.attempts,
      providerMessageId: change.providerMessageId !== undefined ? change.providerMessageId : m.providerMessageId,
      updatedAt: at,
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new DomainError("STORE.UNAVAILABLE", "the message store is closed");
  }
}

function copy(message: Message): Message {
  return structuredClone(message);
}
