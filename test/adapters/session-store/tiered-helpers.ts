import { join } from "node:path";
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import type {
  ApplyOptions,
  VersionedSessionTier,
  VersionedWrite,
} from "../../../src/adapters/session-store/shared/versioned-tier.ts";
import { TieredSessionStore } from "../../../src/adapters/session-store/tiered/tiered.session-store.ts";
import type { FirestoreAuthStateMode } from "../../../src/domain/ports/session-store.port.ts";
import type { FirestoreEmulator } from "../../support/firestore-emulator.ts";

/** Delegates to a real tier and records the ordered batches it accepted (seq of each applied call). */
export class RecordingTier implements VersionedSessionTier {
  readonly applied: number[] = [];
  constructor(private readonly inner: VersionedSessionTier) {}
  get kind() {
    return this.inner.kind;
  }
  getMany = (s: string, k: readonly string[]) => this.inner.getMany(s, k);
  entries = (s: string) => this.inner.entries(s);
  setMany = (s: string, e: ReadonlyMap<string, never>) => this.inner.setMany(s, e);
  clear = (s: string) => this.inner.clear(s);
  listSessions = () => this.inner.listSessions();
  health = () => this.inner.health();
  close = () => this.inner.close();
  sessionMeta = (s: string) => this.inner.sessionMeta(s);
  getVersioned = (s: string, k: readonly string[]) => this.inner.getVersioned(s, k);
  entriesVersioned = (s: string) => this.inner.entriesVersioned(s);
  async applyVersioned(s: string, w: readonly VersionedWrite[], o: ApplyOptions): Promise<boolean> {
    const done = await this.inner.applyVersioned(s, w, o);
    if (done && o.onlyIfNewer === true) this.applied.push(o.seq);
    return done;
  }
}

export interface TieredFixture {
  readonly store: TieredSessionStore;
  readonly remoteCreated: () => number;
  readonly remote: () => RecordingTier | null;
  readonly errors: unknown[];
}

export function openFirestore(emulator: FirestoreEmulator, collection: string): FirestoreSessionStore {
  return new FirestoreSessionStore({ projectId: emulator.projectId, emulatorHost: emulator.host, collection });
}

export function makeTiered(
  mode: FirestoreAuthStateMode,
  dataDir: string,
  emulator: FirestoreEmulator | null,
  collection: string,
): TieredFixture {
  let created = 0;
  let remote: RecordingTier | null = null;
  const errors: unknown[] = [];
  const store = new TieredSessionStore({
    mode,
    local: new SqliteSessionStore({ path: join(dataDir, "sessions.db") }),
    remote: () => {
      created += 1;
      if (emulator === null) throw new Error("no emulator in this test");
      remote = new RecordingTier(openFirestore(emulator, collection));
      return remote;
    },
    outboxDir: join(dataDir, "session-outbox"),
    onError: (_store, error) => errors.push(error),
    remoteTimeoutMs: 1500,
    retryInitialMs: 100,
    retryMaxMs: 400,
  });
  return { store, remoteCreated: () => created, remote: () => remote, errors };
}
