import type { GroupMetadata } from "@whiskeysockets/baileys";
import { BoundedCache } from "../../shared/bounded-cache.ts";

/** A safety net for a change we were never told of: past this, a group's members are asked for again. */
const MAX_AGE_MS = 5 * 60_000;
/** Groups whose metadata a connection keeps; past this the least recently used is asked for again. */
export const MAX_GROUPS_CACHED = 500;

/**
 * One connection's group metadata (members and addressing mode), which
 * Baileys needs for every message to a group: without it each send would
 * ask WhatsApp again. Filled on the first send to a group (concurrent sends
 * share the one query) and by our own metadata queries; an entry is dropped
 * when the group changes (member and subject events, our own changes), so
 * the next send encrypts for the members as they are then.
 */
export class GroupMetadataCache {
  private readonly entries: BoundedCache<GroupMetadata>;
  /** Queries in flight; one dropped by a change may not store what it read before the change. */
  private readonly pending = new Map<string, { readonly query: Promise<GroupMetadata>; stale: boolean }>();

  constructor(
    private readonly fetch: (jid: string) => Promise<GroupMetadata>,
    now: () => number = Date.now,
  ) {
    this.entries = new BoundedCache({ maxEntries: MAX_GROUPS_CACHED, ttlMs: MAX_AGE_MS, now });
  }

  /** Groups held (at most MAX_GROUPS_CACHED). */
  get size(): number {
    return this.entries.size;
  }

  /** The group's metadata: cached, or asked of WhatsApp once for all callers waiting on it. */
  async get(jid: string): Promise<GroupMetadata> {
    const cached = this.entries.get(jid);
    if (cached) return cached;
    const inFlight = this.pending.get(jid);
    if (inFlight) return inFlight.query;
    const query = this.fetch(jid);
    const record = { query, stale: false };
    this.pending.set(jid, record);
    const forget = (): void => {
      if (this.pending.get(jid) === record) this.pending.delete(jid);
    };
    query.then((metadata) => {
      if (!record.stale) this.set(metadata);
      forget();
    }, forget);
    return query;
  }

  /** Stores metadata just read from WhatsApp. */
  set(metadata: GroupMetadata): void {
    this.entries.set(metadata.id, metadata);
  }

  /** Forgets a group that changed: the next send asks again. */
  invalidate(jid: string): void {
    this.entries.delete(jid);
    const inFlight = this.pending.get(jid);
    if (inFlight) inFlight.stale = true;
    this.pending.delete(jid);
  }
}
