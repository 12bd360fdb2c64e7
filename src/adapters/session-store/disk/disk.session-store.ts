import { readdir, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  CorruptEntryError,
  type StoreHealth,
  type StoredValue,
} from "../../../domain/ports/session-store.port.ts";
import { isValidSessionId } from "../../../domain/session.ts";
import { decodeBufferJson, encodeBufferJson } from "../shared/buffer-json.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertKey, assertSessionId } from "../shared/validation.ts";
import {
  silentLogger,
  type ApplyOptions,
  type StoreLogger,
  type TierSessionMeta,
  type Versioned,
  type VersionedSessionTier,
  type VersionedWrite,
} from "../shared/versioned-tier.ts";
import { ensureDir, isNotFound, newBatchId, writeDurable, writeFileAtomic } from "../shared/durable-files.ts";
import { applyJournal, commitJournal, recoverDir } from "./disk-files.ts";
import { baileysFileName, fileNameToKey, isKeyFileName, keyToFileName } from "./disk-key-names.ts";

export interface DiskSessionStoreOptions {
  /** Sessions live in `<dataDir>/sessions/<session>/`. */
  readonly dataDir: string;
  readonly logger?: StoreLogger;
  /**
   * Test-only: called at the two points where a crash matters in a batch
   * (temp files written but not committed; journal committed but not
   * applied). Throwing from it simulates a crash at that point.
   */
  readonly crashPoints?: { beforeCommit?(): void; afterCommit?(): void };
}

const META = ".meta";

/** `.meta`: the session's sequence, the version of each key we wrote, and the keys behind hashed file names. */
interface MetaFile {
  readonly format: 1;
  readonly seq: number;
  readonly versions: Record<string, number>;
  readonly names: Record<string, string>;
}

interface Entry {
  readonly file: string;
  readonly version: number;
  /** Not in `.meta`: a file this store did not write (a Baileys folder dropped in). */
  readonly foreign: boolean;
}

interface SessionState {
  readonly dir: string;
  seq: number;
  readonly entries: Map<string, Entry>;
  readonly names: Map<string, string>;
  /** Keys whose file was found corrupt and kept aside: reads keep failing until the key is rewritten. */
  readonly corrupt: Map<string, string>;
  metaCorrupt: string | null;
}

/**
 * The default session store: one file per key under
 * `<dataDir>/sessions/<session>/`, in Baileys' BufferJSON encoding and file
 * naming (see `disk-key-names.ts`), so a `useMultiFileAuthState` folder can be
 * dropped in. Each `setMany` is atomic through a journal; calls on one
 * session are serialized. One instance owns a data dir (it caches each
 * session's index), which the composition root guarantees.
 */
export class DiskSessionStore implements VersionedSessionTier {
  readonly kind = "disk";
  private readonly root: string;
  private readonly logger: StoreLogger;
  private readonly lock = new KeyedLock();
  private readonly states = new Map<string, SessionState>();
  private readonly crashPoints: NonNullable<DiskSessionStoreOptions["crashPoints"]>;

  constructor(options: DiskSessionStoreOptions) {
    this.crashPoints = options.crashPoints ?? {};
    this.root = join(options.dataDir, "sessions");
    this.logger = options.logger ?? silentLogger;
  }

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    return this.read(session, (state) => this.readKeys(session, state, keys)).then(stripVersions);
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    return this.entriesVersioned(session).then(stripVersions);
  }

  async getVersioned(session: string, keys: readonly string[]): Promise<Map<string, Versioned>> {
    return this.read(session, (state) => this.readKeys(session, state, keys));
  }

  async entriesVersioned(session: string): Promise<Map<string, Versioned>> {
    return this.read(session, (state) => this.readKeys(session, state, [...state.corrupt.keys(), ...state.entries.keys()]));
  }

  async sessionMeta(session: string): Promise<TierSessionMeta> {
    return this.read(session, async (state) => ({ seq: state.seq, complete: true }));
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    assertSessionId(session);
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      const seq = state.seq + 1;
      const writes = [...entries].map(([key, value]) => ({ key, value, version: seq }));
      await this.apply(session, state, writes, { seq });
    });
  }

  async clear(session: string): Promise<void> {
    assertSessionId(session);
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      await this.apply(session, state, [], { seq: state.seq + 1, clear: true });
    });
  }

  async applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean> {
    assertSessionId(session);
    return this.lock.run(session, async () => this.apply(session, await this.load(session), writes, options));
  }

  async listSessions(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
    const sessions: string[] = [];
    for (const name of names.sort()) {
      if (!isValidSessionId(name)) continue;
      const state = await this.lock.run(name, () => this.load(name));
      if (state.entries.size > 0 || state.corrupt.size > 0 || state.metaCorrupt !== null) sessions.push(name);
    }
    return sessions;
  }

  health(): StoreHealth {
    return { status: "ok" };
  }

  async close(): Promise<void> {
    await this.lock.idle();
    this.states.clear();
  }

  private async read<T>(session: string, work: (state: SessionState) => Promise<T>): Promise<T> {
    assertSessionId(session);
    // Reads take the lock too: a batch being applied is never seen half done.
    return this.lock.run(session, async () => {
      const state = await this.load(session);
      if (state.metaCorrupt !== null) {
        throw new CorruptEntryError(session, null, state.metaCorrupt, "unreadable index file");
      }
      return work(state);
    });
  }

  private async readKeys(session: string, state: SessionState, keys: readonly string[]): Promise<Map<string, Versioned>> {
    const found = new Map<string, Versioned>();
    for (const key of new Set(keys)) {
      assertKey(key);
      const location = state.corrupt.get(key);
      if (location !== undefined) throw new CorruptEntryError(session, key, location, "kept aside earlier");
      const entry = this.locate(state, key);
      if (entry === undefined) continue;
      const [, file] = entry;
      let text: string;
      try {
        text = await readFile(join(state.dir, file.file), "utf8");
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      try {
        found.set(key, { value: decodeBufferJson(text), version: file.version });
      } catch (error) {
        await this.quarantine(session, state, key, entry, error);
      }
    }
    return found;
  }

  /**
   * Finds the file of a key: ours, or else the one Baileys would have named
   * for it, if that file is foreign (we never claimed its name for a key).
   */
  private locate(state: SessionState, key: string): [indexKey: string, entry: Entry] | undefined {
    const own = state.entries.get(key);
    if (own !== undefined) return [key, own];
    const legacyName = baileysFileName(key);
    if (legacyName === keyToFileName(key)) return undefined;
    const legacyKey = fileNameToKey(legacyName);
    const legacy = legacyKey === null ? undefined : state.entries.get(legacyKey);
    if (legacyKey === null || legacy === undefined || !legacy.foreign || legacy.file !== legacyName) return undefined;
    return [legacyKey, legacy];
  }

  private async quarantine(
    session: string,
    state: SessionState,
    key: string,
    [indexKey, entry]: [string, Entry],
    cause: unknown,
  ): Promise<never> {
    const aside = `${entry.file}.corrupt-${Date.now()}`;
    await rename(join(state.dir, entry.file), join(state.dir, aside));
    state.entries.delete(indexKey);
    state.corrupt.set(key, join(state.dir, aside));
    // Recording the key in the index keeps it reported as corrupt (not absent) after a restart.
    await this.writeMeta(state, (meta) => ({ ...meta, versions: { ...meta.versions, [key]: entry.version } }));
    const detail = cause instanceof Error ? cause.name : "undecodable";
    this.logger.error({ session, key, path: join(state.dir, aside) }, "session store entry is corrupt; kept aside, session needs attention");
    throw new CorruptEntryError(session, key, join(state.dir, aside), `${detail} while decoding`);
  }

  private async apply(
    session: string,
    state: SessionState,
    writes: readonly VersionedWrite[],
    options: ApplyOptions,
  ): Promise<boolean> {
    if (state.metaCorrupt !== null) {
      throw new CorruptEntryError(session, null, state.metaCorrupt, "unreadable index file");
    }
    if (options.onlyIfNewer === true && state.seq >= options.seq) return false;
    const plan = new Map<string, VersionedWrite>();
    if (options.clear === true) {
      for (const [key, entry] of state.entries) {
        if (entry.version < options.seq) plan.set(key, { key, value: null, version: options.seq });
      }
      for (const key of state.corrupt.keys()) plan.set(key, { key, value: null, version: options.seq });
    }
    for (const write of writes) {
      assertKey(write.key);
      const current = state.corrupt.has(write.key) ? undefined : this.locate(state, write.key);
      if (current !== undefined && current[1].version >= write.version) continue;
      if (current === undefined && write.value === null && !state.corrupt.has(write.key)) {
        plan.delete(write.key);
        continue;
      }
      plan.set(write.key, write);
    }
    const seq = Math.max(state.seq, options.seq, ...writes.map((w) => w.version));
    await ensureDir(this.root);
    await ensureDir(state.dir);
    if (plan.size === 0) {
      if (seq !== state.seq) await this.writeMeta(state, (meta) => ({ ...meta, seq }));
      state.seq = seq;
      return true;
    }
    await this.commitPlan(state, [...plan.values()], seq);
    return true;
  }

  private async commitPlan(state: SessionState, plan: readonly VersionedWrite[], seq: number): Promise<void> {
    const batch = newBatchId();
    const renames: Array<[string, string]> = [];
    const unlinks = new Set<string>();
    const versions = { ...this.metaOf(state).versions };
    const names = new Map(state.names);
    const next = new Map(state.entries);
    const corrupt = new Map(state.corrupt);
    const tmpWrites: Array<Promise<void>> = [];
    plan.forEach((write, i) => {
      const located = this.locate(state, write.key);
      if (located !== undefined) {
        const [indexKey, entry] = located;
        unlinks.add(entry.file);
        next.delete(indexKey);
        names.delete(entry.file);
      }
      corrupt.delete(write.key);
      delete versions[write.key];
      if (write.value === null) return;
      const file = keyToFileName(write.key);
      const tmp = `.tmp-${batch}-${i}`;
      unlinks.delete(file);
      tmpWrites.push(writeDurable(join(state.dir, tmp), encodeBufferJson(write.value)));
      renames.push([tmp, file]);
      if (fileNameToKey(file) === null) names.set(file, write.key);
      versions[write.key] = write.version;
      next.set(write.key, { file, version: write.version, foreign: false });
    });
    const meta: MetaFile = { format: 1, seq, versions, names: Object.fromEntries(names) };
    const metaTmp = `.tmp-${batch}-meta`;
    tmpWrites.push(writeDurable(join(state.dir, metaTmp), JSON.stringify(meta)));
    renames.push([metaTmp, META]);
    await Promise.all(tmpWrites);
    const record = { batch, renames, unlinks: [...unlinks] };
    this.crashPoints.beforeCommit?.();
    await commitJournal(state.dir, record);
    this.crashPoints.afterCommit?.();
    await applyJournal(state.dir, record);
    state.seq = seq;
    state.entries.clear();
    for (const [key, entry] of next) state.entries.set(key, entry);
    state.names.clear();
    for (const [file, key] of names) state.names.set(file, key);
    state.corrupt.clear();
    for (const [key, location] of corrupt) state.corrupt.set(key, location);
  }

  private metaOf(state: SessionState): MetaFile {
    const versions: Record<string, number> = {};
    for (const [key, entry] of state.entries) if (!entry.foreign) versions[key] = entry.version;
    for (const key of state.corrupt.keys()) versions[key] = 0;
    return { format: 1, seq: state.seq, versions, names: Object.fromEntries(state.names) };
  }

  private async writeMeta(state: SessionState, change: (meta: MetaFile) => MetaFile): Promise<void> {
    await writeFileAtomic(state.dir, META, JSON.stringify(change(this.metaOf(state))));
  }

  private async load(session: string): Promise<SessionState> {
    const cached = this.states.get(session);
    if (cached !== undefined) return cached;
    const state = await this.loadFromDisk(session, join(this.root, session));
    this.states.set(session, state);
    return state;
  }

  private async loadFromDisk(session: string, dir: string): Promise<SessionState> {
    const state: SessionState = { dir, seq: 0, entries: new Map(), names: new Map(), corrupt: new Map(), metaCorrupt: null };
    let files: string[];
    try {
      await recoverDir(dir);
      files = await readdir(dir);
    } catch (error) {
      if (isNotFound(error)) return state;
      throw error;
    }
    const meta = await this.readMeta(session, dir, state);
    for (const [file, key] of Object.entries(meta?.names ?? {})) state.names.set(file, key);
    state.seq = meta?.seq ?? 0;
    const present = new Set(files);
    for (const file of files) {
      if (!isKeyFileName(file)) continue;
      const key = fileNameToKey(file) ?? state.names.get(file);
      if (key === undefined) {
        this.logger.warn({ session, path: join(dir, file) }, "session store file has a hashed name missing from the index; ignored");
        continue;
      }
      const version = meta?.versions[key];
      state.entries.set(key, { file, version: version ?? 0, foreign: version === undefined });
    }
    for (const key of Object.keys(meta?.versions ?? {})) {
      if (state.entries.has(key)) continue;
      const file = keyToFileName(key);
      const aside = files.find((name) => name.startsWith(`${file}.corrupt-`));
      state.corrupt.set(key, join(dir, aside ?? file));
      if (!present.has(file)) {
        this.logger.error({ session, key, path: join(dir, aside ?? file) }, "session store entry is missing or was kept aside as corrupt; session needs attention");
      }
    }
    return state;
  }

  private async readMeta(session: string, dir: string, state: SessionState): Promise<MetaFile | undefined> {
    let text: string;
    try {
      text = await readFile(join(dir, META), "utf8");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    try {
      const meta = JSON.parse(text) as MetaFile;
      if (meta.format !== 1 || !Number.isInteger(meta.seq) || typeof meta.versions !== "object") throw new TypeError("bad index");
      return meta;
    } catch {
      const aside = join(dir, `${META}.corrupt-${Date.now()}`);
      await rename(join(dir, META), aside);
      state.metaCorrupt = aside;
      this.logger.error({ session, path: aside }, "session store index is corrupt; kept aside, session needs attention");
      return undefined;
    }
  }
}

function stripVersions(found: Map<string, Versioned>): Map<string, StoredValue> {
  return new Map([...found].map(([key, { value }]) => [key, value]));
}

