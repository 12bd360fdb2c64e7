import type { CacheStore } from "@whiskeysockets/baileys";
import { BoundedCache } from "../../shared/bounded-cache.ts";

const MINUTE_MS = 60_000;

/**
 * Baileys' cache interface over a BoundedCache; keys `skip` accepts are not
 * kept at all.
 */
export function boundedCacheStore(maxEntries: number, ttlMs: number, skip?: (key: string) => boolean): CacheStore {
  const cache = new BoundedCache<unknown>({ maxEntries, ttlMs });
  return {
    get: <T>(key: string) => cache.get(key) as T | undefined,
    set: (key, value) => {
      if (!skip?.(key)) cache.set(key, value);
    },
    del: (key) => cache.delete(key),
    flushAll: () => cache.clear(),
  };
}

/**
 * The caches one Baileys socket keeps, each bounded by entries as well as
 * by age (Baileys' own are NodeCaches bounded by age alone, swept every
 * 10 minutes). Same lifetimes as Baileys' defaults; a miss only costs a
 * store read or a query again. They hold no timer, so they go with their
 * socket: the signal-key cache Baileys makes when given none is a NodeCache
 * nobody closes, and its sweep timer kept every one of them (and what they
 * held) alive, one more per connection.
 */
export interface SocketCaches {
  /** Signal keys read or written (sessions, sender keys, identities; not one-time prekeys): what `makeCacheableSignalKeyStore` keeps. */
  readonly signalKeys: CacheStore;
  /** A contact's devices, asked of WhatsApp before a message to it. */
  readonly userDevicesCache: CacheStore;
  /** How often each failed incoming message was asked for again. */
  readonly msgRetryCounterCache: CacheStore;
  readonly callOfferCache: CacheStore;
  /** Placeholder messages asked of the phone again. */
  readonly placeholderResendCache: CacheStore;
}

/** Entry caps: the contacts and messages a busy session works with in a few minutes; a miss costs little. */
export const SOCKET_CACHE_LIMITS = {
  signalKeys: { maxEntries: 1_000, ttlMs: 5 * MINUTE_MS },
  userDevicesCache: { maxEntries: 1_000, ttlMs: 5 * MINUTE_MS },
  msgRetryCounterCache: { maxEntries: 1_000, ttlMs: 60 * MINUTE_MS },
  callOfferCache: { maxEntries: 100, ttlMs: 5 * MINUTE_MS },
  placeholderResendCache: { maxEntries: 1_000, ttlMs: 60 * MINUTE_MS },
} as const;

export function socketCaches(): SocketCaches {
  const make = ({ maxEntries, ttlMs }: { maxEntries: number; ttlMs: number }) => boundedCacheStore(maxEntries, ttlMs);
  return {
    // A one-time prekey is read twice at most (to upload it, to open the message that used it, which
    // deletes it): kept, a new login's 812 would fill the cache for nothing.
    signalKeys: boundedCacheStore(
      SOCKET_CACHE_LIMITS.signalKeys.maxEntries,
      SOCKET_CACHE_LIMITS.signalKeys.ttlMs,
      (key) => key.startsWith("pre-key."),
    ),
    userDevicesCache: make(SOCKET_CACHE_LIMITS.userDevicesCache),
    msgRetryCounterCache: make(SOCKET_CACHE_LIMITS.msgRetryCounterCache),
    callOfferCache: make(SOCKET_CACHE_LIMITS.callOfferCache),
    placeholderResendCache: make(SOCKET_CACHE_LIMITS.placeholderResendCache),
  };
}
