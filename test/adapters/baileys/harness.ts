import { mkdtempSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach } from "vitest";
import type { Message } from "../../../src/domain/message.ts";
import type { SessionStore, StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import type { ConnectionEvent, WhatsAppConnection } from "../../../src/domain/ports/whatsapp-connector.port.ts";
import {
  BaileysConnector,
  type BaileysConnectorOptions,
} from "../../../src/adapters/messaging/baileys/baileys.connector.ts";
import Database from "libsql";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { DiskMediaStore } from "../../../src/adapters/media-store/disk/disk.media-store.ts";
import { startWhatsAppSimulator } from "../../fakes/whatsapp/index.ts";
import type { ProvisionedAccount, SimulatorOptions, WhatsAppSimulator } from "../../fakes/whatsapp/index.ts";
import { aSendingMessage } from "../../support/message-mother.ts";

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export const silentLogger = pino({ level: "silent" });

/** A simulator on a random port, closed after the test. */
export async function startSim(options: SimulatorOptions = {}): Promise<WhatsAppSimulator> {
  const sim = await startWhatsAppSimulator(options);
  cleanups.push(() => sim.close());
  return sim;
}

/** The gateway's session store (SQLite) in a temp dir removed after the test. */
export async function sessionStore(): Promise<{ store: SqliteSessionStore; path: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), "baileys-adapter-"));
  const path = join(dataDir, "sessions.db");
  const store = new SqliteSessionStore({ path });
  cleanups.push(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });
  return { store, path };
}

/** Damages a stored value behind the store's back (another connection), as a bad disk or a hand edit would. */
export function damageStoredValue(path: string, session: string, key: string, text: string): void {
  const db = new Database(path);
  try {
    db.prepare("UPDATE entries SET value = ? WHERE session = ? AND key = ?").run([text, session, Buffer.from(key)]);
  } finally {
    db.close();
  }
}

/** Stores a simulator-provisioned login as the session's creds. */
export async function storeProvisioned(
  store: SessionStore,
  session: string,
  account: ProvisionedAccount,
): Promise<void> {
  await store.setMany(session, new Map([["creds", account.creds as unknown as StoredValue]]));
}

/** A disk media store in a temp dir removed after the test. */
export function mediaStore(): DiskMediaStore {
  const dir = mkdtempSync(join(tmpdir(), "baileys-media-"));
  const store = new DiskMediaStore({ dir, synchronous: "normal" });
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });
  return store;
}

/** A connector on the simulator, trusting its media server (its CA); files come from a fresh media store unless `options.media`. */
export function connectorFor(
  sim: WhatsAppSimulator,
  store: SessionStore,
  options: Partial<BaileysConnectorOptions> = {},
): BaileysConnector {
  return new BaileysConnector({
    store,
    media: options.media ?? mediaStore(),
    mediaCa: readFileSync(sim.caFile),
    logger: silentLogger,
    waWebSocketUrl: sim.wsUrl,
    connectTimeoutMs: 10_000,
    defaultQueryTimeoutMs: 5_000,
    ackTimeoutMs: 5_000,
    ...options,
  });
}

/** Every event of one connection, with a way to wait for the one a test needs. */
export class Events {
  readonly all: ConnectionEvent[] = [];
  private readonly waiters = new Set<() => void>();

  readonly listener = (event: ConnectionEvent): void => {
    this.all.push(event);
    for (const waiter of [...this.waiters]) waiter();
  };

  of<T extends ConnectionEvent["type"]>(type: T): Array<Extract<ConnectionEvent, { type: T }>> {
    return this.all.filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type);
  }

  /** Resolves with the first event (from the start) that matches. */
  waitFor<T extends ConnectionEvent["type"]>(
    type: T,
    match: (event: Extract<ConnectionEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<ConnectionEvent, { type: T }>> {
    const find = (): Extract<ConnectionEvent, { type: T }> | undefined => this.of(type).find(match);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for a ${type} event; got ${this.all.map((e) => e.type).join(", ")}`));
      }, timeoutMs);
      const check = (): void => {
        const event = find();
        if (!event) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(event);
      };
      this.waiters.add(check);
    });
  }
}

/** Connects and ends the connection after the test. */
export async function connect(
  connector: BaileysConnector,
  session: string,
): Promise<{ connection: WhatsAppConnection; events: Events }> {
  const events = new Events();
  const connection = await connector.connect(session, events.listener);
  cleanups.push(() => connection.end());
  return { connection, events };
}

/** A pre-provisioned account stored in a fresh session store, connected and open. */
export async function openSession(
  sim: WhatsAppSimulator,
  phone: string,
  options: Partial<BaileysConnectorOptions> = {},
): Promise<{
  connection: WhatsAppConnection;
  events: Events;
  store: SqliteSessionStore;
  connector: BaileysConnector;
  account: ProvisionedAccount;
}> {
  const { store } = await sessionStore();
  const account = sim.provisionAccount({ phone });
  await storeProvisioned(store, "main", account);
  const connector = connectorFor(sim, store, options);
  const { connection, events } = await connect(connector, "main");
  await events.waitFor("open");
  return { connection, events, store, connector, account };
}

/** An outbound message as the dispatcher hands it to a provider. */
export function outbound(to: string, text: string, id?: string): Message {
  return aSendingMessage({ to: `whatsapp:+${to}`, text, ...(id === undefined ? {} : { id }) });
}
