/**
 * A map with a bound: at most `maxEntries` entries (the least recently used
 * goes first), each for at most `ttlMs` after it was set. Expired entries
 * are dropped when met; the entry cap bounds the rest, so no timer sweeps
 * it and nothing keeps the cache alive once its owner is gone (a cache with
 * a sweep interval is held by the timer list until someone closes it).
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  private readonly now: () => number;

  constructor(
    private readonly options: { readonly maxEntries: number; readonly ttlMs: number; readonly now?: () => number },
  ) {
    if (!(options.maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, unless absent or expired; a hit makes the entry the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
    // One in, one out: the least recently used (first in the map's order).
    if (this.entries.size > this.options.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
