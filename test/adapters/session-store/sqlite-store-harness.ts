import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import {
  SqliteSessionStore,
  type SqliteSessionStoreOptions,
} from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";

/**
 * A fresh data dir per test (removed after it) and the SQLite session stores
 * a test opened in it (closed after it).
 */
export function sqliteStoreHarness(prefix: string) {
  let dataDir = "";
  const stores: SqliteSessionStore[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    get dataDir(): string {
      return dataDir;
    },
    get path(): string {
      return join(dataDir, "sessions.db");
    },
    open(options: Partial<SqliteSessionStoreOptions> = {}): SqliteSessionStore {
      const store = new SqliteSessionStore({ path: join(dataDir, "sessions.db"), ...options });
      stores.push(store);
      return store;
    },
  };
}
