import {
  earlyStatusLimits,
  earlyStatusToKeep,
  keepEarlyStatus,
  type EarlyStatus,
  type EarlyStatusLimits,
  type EarlyStatusOptions,
} from "../../src/domain/early-statuses.ts";
import { DomainError } from "../../src/domain/errors.ts";
import type { MessageMedia } from "../../src/domain/media.ts";
import type { Message, NewInboundMessage, NewOutboundMessage, Route } from "../../src/domain/message.ts";
import {
  acceptedOutbound,
  afterAttempt,
  afterClaim,
  afterRequeue,
  afterStatusReport,
  amended,
  earlyStatusesAppliedBy,
  heldMediaIds,
  isUnfinished,
  receivedInbound,
  withMedia,
  type StoredMessage,
} from "../../src/domain/message-lifecycle.ts";
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
} from "../../src/domain/ports/message-store.port.ts";
import { nextDueAt, selectRuns } from "../../src/domain/recipient-runs.ts";
import {
  decodeCursor,
  decodeTimeCursor,
  encodeCursor,
  encodeTimeCursor,
} from "../../src/adapters/shared/sqlite/cursor.ts";

/** A stored message, its place in acceptance order, and the idempotency key it came with. */
interface Entry extends StoredMessage {
  readonly seq: number;
  readonly idempotency: NewOutboundMessage["idempotency"];
}

/**
 * The MessageStore in memory, for use-case tests. The rules are the
 * domain's, as in the SQLite store (the contract suite runs against both);
 * this only keeps entries in arrays, with none of the durability. Messages
 * are copied in and out, so callers cannot alter stored state.
 */
export class MemoryMessageStore implements MessageStore {
  /** In acceptance order: entry `seq` is at index `seq - 1`. */
  readonly #entries: Entry[] = [];
  readonly #byId = new Map<string, Entry>();
  /** In report order, oldest first. */
  #early: EarlyStatus[] = [];
  readonly #earlyLimits: EarlyStatusLimits;
  #closed = false;

  constructor(options: EarlyStatusOptions = {}) {
    this.#earlyLimits = earlyStatusLimits(options);
  }

  async enqueue(message: NewOutboundMessage): Promise<EnqueueResult> {
    this.#assertOpen();
    const key = message.idempotency?.key;
    const existing = key === undefined ? undefined : this.#entries.find((e) => e.idempotency?.key === key);
    if (existing) {
      const same = existing.idempotency?.fingerprint === message.idempotency?.fingerprint;
      return { kind: same ? "existing" : "conflict", message: copy(existing.message) };
    }
    return { kind: "created", message: this.#add(acceptedOutbound(message), message.idempotency) };
  }

  async claim(route: Route, limit: number, leaseMs: number, now: Date, window = 1): Promise<Message[]> {
    this.#assertOpen();
    return selectRuns(this.#queues(route), limit, window, now).map((e) => this.#save(e, afterClaim(e, leaseMs, now)));
  }

  async recordAttempt(id: string, outcome: AttemptOutcome, now: Date): Promise<Message> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    if (!entry) throw new DomainError("MESSAGE.NOT_FOUND", `message ${id} not found`);
    const key = earlyStatusesAppliedBy(entry, outcome);
    let early: EarlyStatus[] = [];
    if (key) {
      const matches = (e: EarlyStatus): boolean =>
        e.provider === key.provider && e.providerMessageId === key.providerMessageId;
      early = this.#early.filter(matches);
      this.#early = this.#early.filter((e) => !matches(e));
    }
    return this.#save(entry, afterAttempt(entry, outcome, now, early, this.#earlyLimits));
  }

  async applyStatus(update: StatusUpdate, now: Date): Promise<StatusApplied | undefined> {
    this.#assertOpen();
    const entry =
      (update.providerMessageId === undefined
        ? undefined
        : this.#entries.findLast(
            (e) =>
              e.message.direction === "outbound" &&
              e.message.provider === update.provider &&
              e.message.providerMessageId === update.providerMessageId,
          )) ?? (update.messageId === undefined ? undefined : this.#byId.get(update.messageId));
    if (!entry) {
      const early = earlyStatusToKeep(update, now);
      if (early) this.#early = keepEarlyStatus(this.#early, early, now, this.#earlyLimits);
      return undefined;
    }
    const { stored, reached } = afterStatusReport(entry, update, now);
    return { message: this.#save(entry, stored), reached };
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
    return { message: this.#add(receivedInbound(message), null), created: true };
  }

  async updateMedia(id: string, media: readonly MessageMedia[], now: Date): Promise<Message | undefined> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    return entry && this.#save(entry, withMedia(entry, media, now));
  }

  async amend(
    id: string,
    amendment: Amendment,
    now: Date,
  ): Promise<{ readonly message: Message; readonly changed: boolean } | undefined> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    if (!entry) return undefined;
    const next = amended(entry, amendment, now);
    if (!next) return { message: copy(entry.message), changed: false };
    return { message: this.#save(entry, next), changed: true };
  }

  async findByProviderMessageId(provider: string, providerMessageId: string): Promise<Message | undefined> {
    this.#assertOpen();
    const entry = this.#entries.findLast(
      (e) => e.message.provider === provider && e.message.providerMessageId === providerMessageId,
    );
    return entry && copy(entry.message);
  }

  async mediaInUse(mediaId: string, since: Date): Promise<boolean> {
    this.#assertOpen();
    return this.#entries.some(
      (e) =>
        heldMediaIds(e.message).includes(mediaId) &&
        (isUnfinished(e.message.status) || Date.parse(e.message.updatedAt) >= since.getTime()),
    );
  }

  async requeueInFlight(now: Date): Promise<number> {
    this.#assertOpen();
    const inFlight = this.#entries.filter((entry) => entry.message.status === "sending");
    for (const entry of inFlight) this.#save(entry, afterRequeue(entry, now));
    return inFlight.length;
  }

  async get(id: string): Promise<Message | undefined> {
    this.#assertOpen();
    const entry = this.#byId.get(id);
    return entry && copy(entry.message);
  }

  async list(filter: ListFilter): Promise<Page<Message>> {
    this.#assertOpen();
    const limit = clampLimit(filter.limit);
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
    const count = clampLimit(limit);
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
      if (!isUnfinished(m.status)) continue;
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
    return nextDueAt(this.#queues(route).map((queue) => queue[0]!));
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Per recipient of the route, its unfinished messages in acceptance order (what selectRuns reads). */
  #queues(route: Route): Entry[][] {
    const byRecipient = new Map<string, Entry[]>();
    for (const entry of this.#entries) {
      const m = entry.message;
      if (m.provider !== route.provider || m.session !== route.session || !isUnfinished(m.status)) continue;
      const queue = byRecipient.get(m.to);
      if (queue) queue.push(entry);
      else byRecipient.set(m.to, [entry]);
    }
    return [...byRecipient.values()];
  }

  #add(stored: StoredMessage, idempotency: NewOutboundMessage["idempotency"]): Message {
    if (this.#byId.has(stored.message.id)) throw new Error(`duplicate message id ${stored.message.id}`);
    const entry: Entry = { ...stored, message: copy(stored.message), seq: this.#entries.length + 1, idempotency };
    this.#entries.push(entry);
    this.#byId.set(entry.message.id, entry);
    return copy(entry.message);
  }

  /** Replaces an entry's stored message with `next` (unless it is the same) and returns a copy of the message. */
  #save(entry: Entry, next: StoredMessage): Message {
    if (next !== entry) {
      const saved: Entry = { ...entry, ...next };
      this.#entries[entry.seq - 1] = saved;
      this.#byId.set(saved.message.id, saved);
    }
    return copy(next.message);
  }

  #assertOpen(): void {
    if (this.#closed) throw new DomainError("STORE.UNAVAILABLE", "the message store is closed");
  }
}

function clampLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 1000;
}

function copy(message: Message): Message {
  return structuredClone(message);
}
