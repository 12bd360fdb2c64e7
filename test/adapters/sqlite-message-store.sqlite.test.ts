import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "libsql";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteMessageStore } from "../../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import { mediaFromUrl } from "../../src/domain/media.ts";
import { migrate, SCHEMA_VERSION } from "../../src/adapters/message-store/sqlite/schema.ts";
import { anOutbound } from "../contracts/message-store.contract.ts";
import { t } from "../contracts/message-store.fixtures.ts";

const mode = (path: string): number => statSync(path).mode & 0o777;

describe("SqliteMessageStore on disk", () => {
  let dir: string;
  const open: SqliteMessageStore[] = [];
  const openStore = (path: string, maxBatchSize?: number): SqliteMessageStore => {
    const store = new SqliteMessageStore(maxBatchSize === undefined ? { path } : { path, maxBatchSize });
    open.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "gateway-sqlite-"));
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates its directory 0700 and the database, -wal and -shm files 0600", async () => {
    const path = join(dir, "data", "messages.db");
    const store = openStore(path);
    await store.enqueue(anOutbound());
    expect(mode(join(dir, "data"))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(mode(`${path}-wal`)).toBe(0o600);
    expect(mode(`${path}-shm`)).toBe(0o600);
  });

  it("tightens a database file left readable by others", async () => {
    const path = join(dir, "messages.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    openStore(path);
    expect(mode(path)).toBe(0o600);
  });

  it("keeps its data across close and reopen", async () => {
    const path = join(dir, "messages.db");
    const first = openStore(path);
    const message = anOutbound({ metadata: { a: [1, 2] }, idempotency: { key: "k", fingerprint: "f" } });
    const created = await first.enqueue(message);
    await first.claim({ provider: message.provider, session: message.session }, 1, 1_000, new Date());
    await first.close();

    const second = openStore(path);
    const stored = await second.get(message.id);
    expect(stored?.status).toBe("sending");
    expect(stored?.metadata).toEqual({ a: [1, 2] });
    expect((await second.enqueue({ ...message, id: "other" })).kind).toBe("existing");
    expect(stored?.history.map((h) => h.status)).toEqual(["queued", "sending"]);
    expect(stored?.createdAt).toBe(created.message.createdAt);
  });

  it("records its schema version and refuses a database from a newer gateway", async () => {
    const path = join(dir, "messages.db");
    await openStore(path).close();
    const db = new Database(path);
    expect((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteMessageStore({ path })).toThrow(/newer/);
  });

  it("keeps an early status report across close and reopen", async () => {
    const path = join(dir, "messages.db");
    const first = openStore(path);
    const message = anOutbound();
    const route = { provider: message.provider, session: message.session };
    await first.enqueue(message);
    expect(await first.claim(route, 1, 60_000, t(1))).toHaveLength(1);
    expect(
      await first.applyStatus({ provider: route.provider, providerMessageId: "wamid.kept", status: "read" }, t(2)),
    ).toBeUndefined();
    await first.close();

    const second = openStore(path);
    const sent = await second.recordAttempt(message.id, { kind: "sent", providerMessageId: "wamid.kept" }, t(3));
    expect(sent.status).toBe("read");
    expect(sent.history.map((h) => h.status)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("migrates a version 1 database to the current schema with its rows intact", async () => {
    const path = join(dir, "messages.db");
    const v1 = new Database(path);
    migrate(v1, 1);
    v1.prepare(
      `INSERT INTO messages (id, direction, status, channel, provider, session, to_address, body, media_urls,
         provider_message_id, attempts, created_at, updated_at, history)
       VALUES ('old-1', 'outbound', 'sent', 'whatsapp', 'baileys', 'main', 'whatsapp:+40700000001', 'from v1', '[]',
         'wamid.old', 1, 10, 20, '[{"status":"queued","at":10},{"status":"sent","at":20}]')`,
    ).run([]);
    expect((v1.prepare("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(1);
    v1.close();

    const store = openStore(path);
    expect(await store.get("old-1")).toMatchObject({
      status: "sent",
      text: "from v1",
      providerMessageId: "wamid.old",
      history: [{ status: "queued" }, { status: "sent" }],
    });
    const delivered = await store.applyStatus(
      { provider: "baileys", providerMessageId: "wamid.old", status: "delivered" },
      t(30),
    );
    expect(delivered?.message.status).toBe("delivered");
    // The table v2 adds works: an early report is kept and applied.
    const fresh = anOutbound({ to: "whatsapp:+40700000009" });
    await store.enqueue(fresh);
    expect(await store.claim({ provider: fresh.provider, session: fresh.session }, 10, 60_000, t(40))).toHaveLength(1);
    await store.applyStatus({ provider: fresh.provider, providerMessageId: "wamid.new", status: "delivered" }, t(41));
    expect((await store.recordAttempt(fresh.id, { kind: "sent", providerMessageId: "wamid.new" }, t(42))).status).toBe(
      "delivered",
    );
    await store.close();

    const db = new Database(path);
    expect((db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("migrates a version 3 database's media URLs to attachments fetched at send time", async () => {
    const path = join(dir, "messages.db");
    const v3 = new Database(path);
    migrate(v3, 3);
    v3.prepare(
      `INSERT INTO messages (id, direction, status, channel, provider, session, to_address, body, media_urls,
         attempts, created_at, updated_at, history, head, next_attempt_at)
       VALUES ('old-media', 'outbound', 'queued', 'sms', 'twilio', 'default', 'sms:+14155550100', 'see this',
         '["https://example.com/a.png","https://example.com/b.pdf"]', 0, 10, 10, '[{"status":"queued","at":10}]',
         1, 10)`,
    ).run([]);
    v3.close();

    const store = openStore(path);
    const migrated = await store.get("old-media");
    expect(migrated?.media).toEqual(
      ["https://example.com/a.png", "https://example.com/b.pdf"].map((url) => mediaFromUrl(url)),
    );
    expect(migrated?.text).toBe("see this");
    const [claimed] = await store.claim({ provider: "twilio", session: "default" }, 1, 60_000, t(20));
    expect(claimed?.media).toHaveLength(2);
    await store.close();
  });

  it("keeps at most 10,000 early status reports by default, the newest", async () => {
    const path = join(dir, "messages.db");
    const store = openStore(path);
    const at = new Date(0);
    await Promise.all(
      Array.from({ length: 10_005 }, (_, i) =>
        store.applyStatus({ provider: "baileys", providerMessageId: `unknown-${i}`, status: "delivered" }, at),
      ),
    );
    await store.close();

    const db = new Database(path);
    const kept = db.prepare("SELECT count(*) AS n FROM early_statuses").get() as { n: number };
    const oldest = db.prepare("SELECT provider_message_id AS id FROM early_statuses ORDER BY seq LIMIT 1").get() as {
      id: string;
    };
    db.close();
    expect(kept.n).toBe(10_000);
    expect(oldest.id).toBe("unknown-5");
  });

  it("commits every one of 500 concurrent enqueues", async () => {
    const path = join(dir, "messages.db");
    const store = openStore(path);
    const inputs = Array.from({ length: 500 }, (_, i) =>
      anOutbound({ to: `whatsapp:+4070000${String(i).padStart(4, "0")}` }),
    );
    const results = await Promise.all(inputs.map((input) => store.enqueue(input)));
    expect(results.every((r) => r.kind === "created")).toBe(true);
    await store.close();

    const db = new Database(path);
    const count = db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number };
    db.close();
    expect(count.n).toBe(500);
  });

  it("rejects only the failing write of a batch and commits the others", async () => {
    const store = openStore(join(dir, "messages.db"));
    const a = anOutbound();
    const b = anOutbound();
    const results = await Promise.allSettled([
      store.enqueue(a),
      store.enqueue({ ...a, text: "same id again" }),
      store.enqueue(b),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await store.get(a.id))?.text).toBe(a.text);
    expect(await store.get(b.id)).toBeDefined();
  });

  it("claims correctly from a backlog of 10,000 messages", async () => {
    const store = openStore(join(dir, "messages.db"));
    const route = { provider: "baileys", session: "main" };
    const at = new Date(0);
    const heads = [];
    for (let r = 0; r < 100; r++) {
      const to = `whatsapp:+4071${String(r).padStart(6, "0")}`;
      const batch = Array.from({ length: 100 }, () => anOutbound({ to, at }));
      heads.push(batch[0]!.id);
      await Promise.all(batch.map((m) => store.enqueue(m)));
    }
    const claimed = await store.claim(route, 1_000, 60_000, new Date(1));
    expect(claimed.map((m) => m.id)).toEqual(heads);
    expect(await store.claim(route, 1_000, 60_000, new Date(2))).toEqual([]);
  });

  it("keeps a message whose enqueue resolved when the process is killed with SIGKILL right after", async () => {
    const path = join(dir, "data", "messages.db");
    mkdirSync(join(dir, "data"), { mode: 0o700 });
    const script = fileURLToPath(new URL("./fixtures/enqueue-then-hang.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, path, "durable-1"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    const printed = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) {
          child.kill("SIGKILL");
          resolve(out.trim());
        }
      });
      child.on("exit", () => reject(new Error(`child exited before printing an id: ${stderr}`)));
    });
    expect(await exited).toBe("SIGKILL");
    expect(printed).toBe("durable-1");

    const store = openStore(path);
    const message = await store.get("durable-1");
    expect(message).toMatchObject({
      id: "durable-1",
      status: "queued",
      text: "must survive kill -9",
      metadata: { durable: true },
    });
  });

  it("acknowledges an enqueue only after the write-ahead log is synced, off the event loop", async () => {
    const path = join(dir, "messages.db");
    let release!: () => void;
    const synced: string[] = [];
    const store = new SqliteMessageStore({
      path,
      syncFile: (handle) => {
        synced.push("sync");
        return new Promise<void>((resolve) => (release = () => handle.datasync().then(resolve)));
      },
    });
    open.push(store);
    let done = false;
    const enqueued = store.enqueue(anOutbound()).then((result) => ((done = true), result));
    for (let i = 0; i < 50 && synced.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(synced).toEqual(["sync"]);
    // Committed (readable) but not acknowledged until the sync is done.
    expect(done).toBe(false);
    release();
    const { message } = await enqueued;
    expect(done).toBe(true);
    expect((await store.get(message.id))?.status).toBe("queued");
  });

  it("reports itself unavailable once a sync of its log failed, and rejects the writes it covered", async () => {
    const path = join(dir, "messages.db");
    const store = new SqliteMessageStore({
      path,
      syncFile: () => Promise.reject(Object.assign(new Error("EIO: i/o error"), { code: "EIO" })),
    });
    open.push(store);
    await expect(store.enqueue(anOutbound())).rejects.toThrow("EIO");
    await expect(store.ping()).rejects.toThrow(/message store cannot write: writes could not be made durable/);
    await expect(store.enqueue(anOutbound())).rejects.toThrow("EIO");
  });
});
