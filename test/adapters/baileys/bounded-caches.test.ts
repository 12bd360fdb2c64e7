import { describe, expect, it } from "vitest";
import type { GroupMetadata } from "@whiskeysockets/baileys";
import { ChatAddressing, MAX_CHATS_IN_MEMORY } from "../../../src/adapters/messaging/baileys/chat-addressing.ts";
import { GroupMetadataCache, MAX_GROUPS_CACHED } from "../../../src/adapters/messaging/baileys/group-metadata-cache.ts";
import { SessionWrites } from "../../../src/adapters/messaging/baileys/session-writes.ts";
import {
  boundedCacheStore,
  SOCKET_CACHE_LIMITS,
  socketCaches,
} from "../../../src/adapters/messaging/baileys/socket-caches.ts";
import { MemorySessionStore } from "../../fakes/memory-session-store.ts";
import { silentLogger } from "./harness.ts";

const group = (id: string): GroupMetadata => ({ id, subject: id, participants: [] }) as unknown as GroupMetadata;

describe("per-session caches stay bounded when filled past their cap", () => {
  it("a socket's caches (Baileys' CacheStore) keep at most their cap, dropping the least recently used", async () => {
    const cache = boundedCacheStore(100, 60_000);
    for (let i = 0; i < 1_000; i++) await cache.set(`k${i}`, i);
    const kept = await Promise.all(Array.from({ length: 1_000 }, (_, i) => cache.get<number>(`k${i}`)));
    expect(kept.filter((v) => v !== undefined)).toHaveLength(100);
    expect(kept.slice(900)).toEqual(Array.from({ length: 100 }, (_, i) => 900 + i));

    // One-time prekeys are not kept by the signal-key cache (a new login reads 812 once).
    const keys = socketCaches().signalKeys;
    await keys.set("pre-key.1", { private: 1 });
    await keys.set("session.123.0", { record: 1 });
    expect(await keys.get("pre-key.1")).toBeUndefined();
    expect(await keys.get("session.123.0")).toEqual({ record: 1 });

    // Every cache a socket gets is capped.
    const caches = socketCaches();
    for (const [name, limit] of Object.entries(SOCKET_CACHE_LIMITS)) {
      const store = caches[name as keyof typeof caches];
      for (let i = 0; i <= limit.maxEntries; i++) await store.set(`k${i}`, i);
      expect(await store.get("k0"), name).toBeUndefined();
      expect(await store.get(`k${limit.maxEntries}`), name).toBe(limit.maxEntries);
    }
  });

  it("chat addressing keeps at most MAX_CHATS_IN_MEMORY chats, and an evicted chat is read back from the store", async () => {
    const store = new MemorySessionStore();
    const writes = new SessionWrites(store, "main", silentLogger);
    const chats = new ChatAddressing({ store, writes, sealed: () => false, logger: silentLogger });
    const n = MAX_CHATS_IN_MEMORY + 500;
    const phone = (i: number) => String(15550300000 + i);
    // Noted all at once: the first ones leave memory before their writes run, and must still be written as noted.
    for (let i = 0; i < n; i++) chats.note(`${phone(i)}@s.whatsapp.net`, `${9000 + i}@lid`);
    await writes.flush();

    expect(chats.chatsInMemory).toBeLessThanOrEqual(MAX_CHATS_IN_MEMORY);
    expect(await chats.chatJid(`${phone(0)}@s.whatsapp.net`)).toBe("9000@lid");
    expect(await chats.chatJid(`${phone(n - 1)}@s.whatsapp.net`)).toBe(`${9000 + n - 1}@lid`);
    expect(chats.chatsInMemory).toBeLessThanOrEqual(MAX_CHATS_IN_MEMORY);
  });

  it("group metadata keeps at most MAX_GROUPS_CACHED groups; an evicted group is asked for again", async () => {
    const asked: string[] = [];
    const cache = new GroupMetadataCache(async (jid) => {
      asked.push(jid);
      return group(jid);
    });
    for (let i = 0; i < MAX_GROUPS_CACHED + 100; i++) await cache.get(`${i}@g.us`);
    expect(cache.size).toBe(MAX_GROUPS_CACHED);

    await cache.get(`${MAX_GROUPS_CACHED + 99}@g.us`); // kept
    await cache.get("0@g.us"); // evicted: asked again
    expect(asked.filter((j) => j === `${MAX_GROUPS_CACHED + 99}@g.us`)).toHaveLength(1);
    expect(asked.filter((j) => j === "0@g.us")).toHaveLength(2);
  });

  it("group metadata read before a change is not kept after it", async () => {
    let answer!: (metadata: GroupMetadata) => void;
    const cache = new GroupMetadataCache(() => new Promise((resolve) => (answer = resolve)));
    const first = cache.get("1@g.us");
    cache.invalidate("1@g.us");
    answer(group("1@g.us"));
    await first;
    expect(cache.size).toBe(0);
  });
});
