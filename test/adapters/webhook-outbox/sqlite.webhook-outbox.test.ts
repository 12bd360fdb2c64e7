import { statSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import { afterEach, describe, expect, it } from "vitest";
import { migrate } from "../../../src/adapters/webhook-outbox/sqlite/schema.ts";
import { SqliteWebhookOutbox } from "../../../src/adapters/webhook-outbox/sqlite/sqlite.webhook-outbox.ts";
import { aDelivery, webhookOutboxContract } from "../../contracts/webhook-outbox.contract.ts";
import { tempDir } from "../../support/temp-dir.ts";

webhookOutboxContract("sqlite", async () => {
  const dir = await tempDir("outbox-");
  const outbox = new SqliteWebhookOutbox({ path: join(dir.path, "webhooks.db"), synchronous: "normal" });
  return {
    outbox,
    async cleanup() {
      await outbox.close();
      await dir.remove();
    },
  };
});

describe("SqliteWebhookOutbox on disk", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function dir() {
    const d = await tempDir("outbox-");
    cleanups.push(d.remove);
    return d.path;
  }

  it("keeps deliveries across a reopen, in a file only its owner can read", async () => {
    const path = join(await dir(), "nested", "webhooks.db");
    const first = new SqliteWebhookOutbox({ path });
    const d = await first.enqueue(aDelivery("message:reopen", { at: new Date() }));
    await first.claimDue(1, 3_600_000, new Date());
    await first.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);

    const second = new SqliteWebhookOutbox({ path });
    cleanups.push(() => second.close());
    expect((await second.get(d.id))?.body).toBe(d.body);
    expect(await second.requeueInFlight(new Date())).toBe(1);
    expect((await second.claimDue(1, 1000, new Date())).map((x) => x.id)).toEqual([d.id]);
  });

  it("refuses a database written by a newer gateway", async () => {
    const path = join(await dir(), "webhooks.db");
    await new SqliteWebhookOutbox({ path }).close();
    const raw = new Database(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    expect(() => new SqliteWebhookOutbox({ path })).toThrow(/newer than this gateway supports/);
  });

  it("migrates an outbox of the first version: its creation is its oldest delivery's enqueue", async () => {
    const path = join(await dir(), "webhooks.db");
    const v1 = new Database(path);
    migrate(v1, 1);
    const enqueued = Date.parse("2026-03-01T10:00:00.000Z");
    v1.prepare(
      `INSERT INTO deliveries (id, event_id, type, ordering_key, status, attempts, created_at, updated_at, body)
       VALUES ('whd_old', 'evt_old', 'message.status', 'message:m', 'delivered', 1, ?, ?, '{}')`,
    ).run([enqueued, enqueued + 5]);
    v1.close();
    const outbox = new SqliteWebhookOutbox({ path });
    cleanups.push(() => outbox.close());
    expect(await outbox.timeline()).toEqual({ createdAt: new Date(enqueued), lastEnqueuedAt: new Date(enqueued) });
    expect(await outbox.latestBodies(["message:m"])).toEqual(new Map([["message:m", "{}"]]));
  });

  it("refuses work once closed, with STORE.UNAVAILABLE", async () => {
    const outbox = new SqliteWebhookOutbox({ path: join(await dir(), "webhooks.db") });
    await outbox.close();
    await expect(outbox.enqueue(aDelivery())).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
  });
});
