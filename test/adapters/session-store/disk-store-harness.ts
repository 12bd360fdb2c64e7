import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { DiskSessionStore } from "../../../src/adapters/session-store/disk/disk.session-store.ts";
import type { SyncFn } from "../../../src/adapters/session-store/disk/durable-sync.ts";

type DiskOptions = ConstructorParameters<typeof DiskSessionStore>[0];

/**
 * A fresh data dir per test (removed after it) and the stores a test opened
 * in it (closed after it). `defaults` apply to every `open()`.
 */
export function diskStoreHarness(prefix: string, defaults: Partial<DiskOptions> = {}) {
  let dataDir = "";
  const stores: DiskSessionStore[] = [];
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await rm(dataDir, { recursive: true, force: true });
  });
  const root = (): string => join(dataDir, "sessions");
  return {
    /** This test's data dir. */
    get dataDir(): string {
      return dataDir;
    },
    open(options: Partial<DiskOptions> = {}): DiskSessionStore {
      const store = new DiskSessionStore({ dataDir, ...defaults, ...options });
      stores.push(store);
      return store;
    },
    root,
    sessionDir: (session: string): string => join(root(), session),
    /** The write-ahead log files in the sessions folder. */
    logFiles: async (): Promise<string[]> => (await readdir(root())).filter((name) => name.startsWith(".wal-")),
  };
}

/** A crash point: throws as if the process died there. */
export const crash = (): never => {
  throw new Error("simulated crash");
};

/** The store's own syncs (what `defaultSync` does), for tests that wrap them. */
export const realSync: SyncFn = (handle, what) => (what === "log" ? handle.datasync() : handle.sync());

/**
 * The real syncs, until `fail()`: from then on every sync of kind `what`
 * throws EIO (`fail(1)`: only the next one). `calls` counts the syncs of
 * that kind, failed ones included.
 */
export function failingSync(what: "log" | "file" | "dir"): {
  sync: SyncFn;
  fail(times?: number): void;
  readonly calls: number;
} {
  let failures = 0;
  let calls = 0;
  const sync: SyncFn = async (handle, kind) => {
    if (kind === what) {
      calls += 1;
      if (failures > 0) {
        failures -= 1;
        throw new Error("EIO: simulated");
      }
    }
    await realSync(handle, kind);
  };
  return {
    sync,
    fail: (times = Infinity) => (failures = times),
    get calls() {
      return calls;
    },
  };
}
