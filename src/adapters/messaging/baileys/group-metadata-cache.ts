import type { GroupMetadata } from "@whiskeysockets/baileys";

/** A safety net for a change we were never told of: past this, a group's members are asked for again. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * One connection's group metadata (members and addressing mode), which
 * Baileys needs for every message to a group: without it each send would
 * ask WhatsApp again. Filled on the first send to a group (concurrent sends
 * share the one query) and by our own metadata queries; an entry is dropped
 * when the group changes (member and subject events, our own changes), so
 * the next send encrypts for the members as they are then.
 */
export class GroupMetadataCache {
  private readonly entries = new Map<string, { readonly metadata: GroupMetadata; readonly at: number }>();
  private readonly pending = new Map<string, Promise<GroupMetadata>>();
  /** Bumped by every invalidation, so a query answered after a change cannot store what it read before it. */
  private readonly epochs = new Map<string, number>();

  constructor(
    private readonly fetch: (jid: string) => Promise<GroupMetadata>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The group's metadata: cached, or asked of WhatsApp once for all callers waiting on it. */
  async get(jid: string): Promise<GroupMetadata> {
    const entry = this.entries.get(jid);
    if (entry && this.now() - entry.at < MAX_AGE_MS) return entry.metadata;
    let query = this.pending.get(jid);
    if (!query) {
      const epoch = this.epochs.get(jid) ?? 0;
      query = this.fetch(jid).then((metadata) => {
        if ((this.epochs.get(jid) ?? 0) === epoch) this.set(metadata);
        return metadata;
      });
      const forget = (): void => {
        if (this.pending.get(jid) === query) this.pending.delete(jid);
      };
      query.then(forget, forget);
      this.pending.set(jid, query);
    }
    return query;
  }

  /** Stores metadata just read from WhatsApp. */
  set(metadata: GroupMetadata): void {
    this.entries.set(metadata.id, { metadata, at: this.now() });
  }

  /** Forgets a group that changed: the next send asks again. */
  invalidate(jid: string): void {
    this.entries.delete(jid);
    this.pending.delete(jid);
    this.epochs.set(jid, (this.epochs.get(jid) ?? 0) + 1);
  }
}
