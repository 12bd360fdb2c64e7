import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiskMediaStore } from "../../src/adapters/media-store/disk/disk.media-store.ts";
import { silentLogger } from "../../src/domain/ports/logger.port.ts";
import { MediaRetention, retentionStart } from "../../src/app/media/media-retention.ts";
import { SqliteMessageStore } from "../../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import { anOutbound, HELD_PNG } from "../contracts/message-store.fixtures.ts";
import { eventually, startInProcessGateway } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";
import { chunked, mediaFixture } from "../support/media-fixtures.ts";
import { MemoryMediaStore } from "../fakes/memory-media-store.ts";

const DAY = 86_400_000;

async function setup(stillNeeded: (id: string) => boolean = () => false) {
  let now = new Date("2030-01-01T00:00:00Z");
  const clock = { now: () => now };
  const store = new MemoryMediaStore(clock);
  const old = await store.put(chunked(mediaFixture.png(3000)), { maxBytes: 10_000 });
  now = new Date(now.getTime() + 20 * DAY);
  const recent = await store.put(chunked(mediaFixture.jpeg(3000)), { maxBytes: 10_000 });
  now = new Date(now.getTime() + 15 * DAY);
  const retention = new MediaRetention(store, clock, silentLogger, {
    retentionDays: 30,
    intervalMs: 3_600_000,
    stillNeeded,
  });
  return { store, old, recent, retention };
}

describe("MediaRetention", () => {
  it("removes files older than the retention that nothing needs, and keeps the rest", async () => {
    const { store, old, recent, retention } = await setup();
    expect(await retention.sweepOnce()).toBe(1);
    expect(await store.stat(old.id)).toBeUndefined();
    expect(await store.stat(recent.id)).toBeDefined();
    expect(await retention.sweepOnce()).toBe(0);
  });

  it("keeps an old file that is still needed", async () => {
    const needed = new Set<string>();
    const { store, old, retention } = await setup((id) => needed.has(id));
    needed.add(old.id);
    expect(await retention.sweepOnce()).toBe(0);
    expect(await store.stat(old.id)).toBeDefined();
  });

  it("sweeps once at start, in the background, and stop waits for it", async () => {
    const { store, old, retention } = await setup();
    retention.start();
    await eventually(async () => (await store.stat(old.id)) === undefined, 5_000, "the first sweep");
    await retention.stop();
    await retention.stop();
  });

  it("logs a failed sweep and keeps going", async () => {
    const { store, retention } = await setup();
    await store.close();
    const errors: unknown[] = [];
    const logging = new MediaRetention(
      store,
      { now: () => new Date() },
      { ...silentLogger, error: (f) => errors.push(f) },
      {
        retentionDays: 30,
        intervalMs: 3_600_000,
        stillNeeded: () => false,
      },
    );
    logging.start();
    await eventually(() => errors.length > 0 || undefined, 5_000, "the logged failure");
    await logging.stop();
    await retention.stop();
  });
});

describe("media retention in the gateway", () => {
  it("sweeps media older than MEDIA_RETENTION_DAYS when the gateway starts, and keeps newer media", async () => {
    const dir = await tempDir();
    const mediaDir = join(dir.path, "media");
    try {
      const aged = new DiskMediaStore({ dir: mediaDir, clock: { now: () => new Date(Date.now() - 8 * DAY) } });
      const old = await aged.put(chunked(mediaFixture.png(3000)), { maxBytes: 10_000 });
      const kept = await aged.put(chunked(mediaFixture.pdf(3000)), { maxBytes: 10_000 });
      await aged.close();
      const fresh = new DiskMediaStore({ dir: mediaDir });
      const recent = await fresh.put(chunked(mediaFixture.jpeg(3000)), { maxBytes: 10_000 });
      await fresh.close();

      const gw = await startInProcessGateway({ MEDIA_RETENTION_DAYS: "9" }, undefined, dir.path);
      try {
        expect((await gw.call("GET", `/media/${kept.id}`)).status).toBe(200);
      } finally {
        await gw.close();
      }
      const again = await startInProcessGateway({ MEDIA_RETENTION_DAYS: "7" }, undefined, dir.path);
      try {
        await eventually(async () => (await again.call("GET", `/media/${old.id}`)).status === 404 || undefined);
        expect((await again.call("GET", `/media/${kept.id}`)).status).toBe(404);
        expect((await again.call("GET", `/media/${recent.id}`)).status).toBe(200);
      } finally {
        await again.close();
      }
    } finally {
      await dir.remove();
    }
  });
});

describe("MediaRetention with the message store's references", () => {
  it("keeps a file a queued message needs, and lets it go once the message is older than the retention", async () => {
    let now = new Date("2030-01-01T00:00:00Z");
    const clock = { now: () => now };
    const dir = await tempDir();
    const media = new MemoryMediaStore(clock);
    const messages = new SqliteMessageStore({ path: join(dir.path, "messages.db") });
    try {
      const file = await media.put(chunked(mediaFixture.png(3000)), { maxBytes: 10_000 });
      const unused = await media.put(chunked(mediaFixture.jpeg(3000)), { maxBytes: 10_000 });
      const attachment = {
        ...HELD_PNG,
        id: file.id,
        sha256: file.sha256,
        size: file.size,
      };
      const message = anOutbound({ id: "m-retained", media: [attachment], at: now });
      await messages.enqueue(message);
      const retention = new MediaRetention(media, clock, silentLogger, {
        retentionDays: 30,
        intervalMs: 3_600_000,
        stillNeeded: (id) => messages.mediaInUse(id, retentionStart(clock, 30)),
      });

      // 40 days on, the message still waits (its session is down): its file stays, the unused one goes.
      now = new Date(now.getTime() + 40 * DAY);
      expect(await retention.sweepOnce()).toBe(1);
      expect(await media.stat(file.id)).toBeDefined();
      expect(await media.stat(unused.id)).toBeUndefined();

      // Sent on day 40: kept while the message is recent, gone 30 days after its last change.
      await messages.claim(ROUTE_OF(message), 1, 60_000, now);
      await messages.recordAttempt(message.id, { kind: "sent", providerMessageId: "wa-1" }, now);
      now = new Date(now.getTime() + 29 * DAY);
      expect(await retention.sweepOnce()).toBe(0);
      now = new Date(now.getTime() + 2 * DAY);
      expect(await retention.sweepOnce()).toBe(1);
      expect(await media.stat(file.id)).toBeUndefined();
    } finally {
      await messages.close();
      await dir.remove();
    }
  });
});

function ROUTE_OF(message: { provider: string; session: string }) {
  return { provider: message.provider, session: message.session };
}
