import { randomBytes } from "node:crypto";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import {
  getFirestore,
  type CollectionReference,
  type DocumentReference,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import { CorruptEntryError, type StoreHealth, type StoredValue } from "../../../domain/ports/session-store.port.ts";
import { silentLogger, type Logger } from "../../../domain/ports/logger.port.ts";
import { KeyedLock } from "../shared/session-lock.ts";
import { assertKey, assertSessionId } from "../shared/validation.ts";
import {
  type ApplyOptions,
  type TierSessionMeta,
  type Versioned,
  type VersionedSessionTier,
  type VersionedWrite,
} from "../shared/versioned-tier.ts";
import { decodeValue, encodeValue, keyDocId, splitParts } from "./firestore-codec.ts";
import { planChunks, type EncodedWrite } from "./firestore-batches.ts";
import { FirestoreFence, type FenceCheck, type FirestoreFencingOptions } from "./firestore-fence.ts";
import { overlayStaged, sessionUpdate, StagedBatches, type SessionDoc } from "./firestore-staged-batches.ts";

export interface FirestoreSessionStoreOptions {
  readonly projectId: string;
  /** Top-level collection; default `gatewaySessions`. */
  readonly collection?: string;
  /**
   * `host:port` of an emulator. Without it, `FIRESTORE_EMULATOR_HOST` (read by
   * firebase-admin itself) or Google's production endpoint is used.
   */
  readonly emulatorHost?: string;
  readonly logger?: Logger;
  /** Test-only: throwing from it simulates a crash right after a staged batch's commit point. */
  readonly crashPoints?: { afterStagedCommit?(): void };
  /**
   * Cluster mode: every write for a session (setMany, clear, applyVersioned)
   * is refused with LeaseLostError, nothing written, unless the session's
   * lease still holds the token this instance held when the write was asked
   * for (checked inside the write's transaction; see firestore-fence.ts).
   */
  readonly fencing?: FirestoreFencingOptions;
}

interface KeyDoc {
  readonly k: string;
  readonly v: number;
  readonly n: number;
  readonly d: Uint8Array;
}

class PendingBatchFound extends Error {}

let appCounter = 0;

/**
 * Session store in Firestore. Layout (see docs/session-stores.md):
 * `{collection}/{session}` holds the session's sequence and flags;
 * `{collection}/{session}/keys/{keyDocId}` one document per key
 * `{k, v, n, d}`; values over 900 KB continue in `.../parts/{i}`. Every
 * `setMany` is atomic: one transaction when it fits one commit, otherwise
 * staged in `.../staging/*` and committed by a single write of the session
 * document, then rolled forward by the next call on the session (a read
 * waits for that at most 2 s, then reads the batch from staging).
 */
export class FirestoreSessionStore implements VersionedSessionTier {
  readonly kind = "firestore";
  private readonly app: App;
  private readonly db: Firestore;
  private readonly root: CollectionReference;
  private readonly logger: Logger;
  private readonly lock = new KeyedLock();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private readonly staged: StagedBatches;
  private readonly fence: FirestoreFence | undefined;

  constructor(options: FirestoreSessionStoreOptions) {
    appCounter += 1;
    // A named app per instance: several stores (tests, a migration) can live in one process.
    this.app = initializeApp(
      { projectId: options.projectId },
      `session-store-${process.pid}-${appCounter}-${randomBytes(3).toString("hex")}`,
    );
    this.db = getFirestore(this.app);
    if (options.emulatorHost !== undefined) this.db.settings({ host: options.emulatorHost, ssl: false });
    this.root = this.db.collection(options.collection ?? "gatewaySessions");
    this.logger = options.logger ?? silentLogger;
    this.fence = options.fencing === undefined ? undefined : new FirestoreFence(this.db, options.fencing);
    const afterStagedCommit = options.crashPoints?.afterStagedCommit;
    this.staged = new StagedBatches({
      db: this.db,
      sessionRef: (session) => this.sessionRef(session),
      writeChunk: (tx, session, writes) => this.writeChunk(tx, session, writes),
      logger: this.logger,
      ...(afterStagedCommit ? { afterStagedCommit } : {}),
    });
  }

  async getMany(session: string, keys: readonly string[]): Promise<Map<string, StoredValue>> {
    return stripVersions(await this.getVersioned(session, keys));
  }

  async entries(session: string): Promise<Map<string, StoredValue>> {
    return stripVersions(await this.entriesVersioned(session));
  }

  async getVersioned(session: string, keys: readonly string[]): Promise<Map<string, Versioned>> {
    assertSessionId(session);
    const unique = [...new Set(keys)];
    unique.forEach(assertKey);
    return this.guarded(session, async () => {
      const { staged } = await this.staged.settleForRead(session);
      const found = new Map<string, Versioned>();
      for (let i = 0; i < unique.length; i += 300) {
        const chunk = unique.slice(i, i + 300);
        const snaps = chunk.length === 0 ? [] : await this.db.getAll(...chunk.map((key) => this.keyRef(session, key)));
        await this.collect(session, snaps, found);
      }
      if (staged) overlayStaged(found, staged, new Set(unique));
      return found;
    });
  }

  async entriesVersioned(session: string): Promise<Map<string, Versioned>> {
    assertSessionId(session);
    return this.guarded(session, async () => {
      const { staged } = await this.staged.settleForRead(session);
      const found = new Map<string, Versioned>();
      await this.collect(session, (await this.keys(session).get()).docs, found);
      if (staged) overlayStaged(found, staged);
      return found;
    });
  }

  async sessionMeta(session: string): Promise<TierSessionMeta> {
    assertSessionId(session);
    return this.guarded(session, async () => {
      const { doc } = await this.staged.settleForRead(session);
      return { seq: doc.seq ?? 0, complete: doc.complete ?? false };
    });
  }

  async setMany(session: string, entries: ReadonlyMap<string, StoredValue | null>): Promise<void> {
    assertSessionId(session);
    const fence = this.fence?.checkFor(session);
    await this.guarded(session, async () => {
      const seq = ((await this.staged.settle(session)).seq ?? 0) + 1;
      await this.apply(
        session,
        [...entries].map(([key, value]) => ({ key, value, version: seq })),
        { seq },
        fence,
      );
    });
  }

  async clear(session: string): Promise<void> {
    assertSessionId(session);
    const fence = this.fence?.checkFor(session);
    await this.guarded(session, async () => {
      const seq = ((await this.staged.settle(session)).seq ?? 0) + 1;
      await this.apply(session, [], { seq, clear: true }, fence);
    });
  }

  async applyVersioned(session: string, writes: readonly VersionedWrite[], options: ApplyOptions): Promise<boolean> {
    assertSessionId(session);
    const fence = this.fence?.checkFor(session);
    return this.guarded(session, async () => {
      await this.staged.settle(session);
      return this.apply(session, writes, options, fence);
    });
  }

  async listSessions(): Promise<string[]> {
    return this.guarded("", () => this.listSessionsNow());
  }

  private async listSessionsNow(): Promise<string[]> {
    const refs = await this.root.listDocuments();
    const withKeys = await Promise.all(
      refs.map(async (ref) => ((await ref.collection("keys").limit(1).get()).empty ? null : ref.id)),
    );
    return withKeys.filter((id): id is string => id !== null).sort();
  }

  health(): StoreHealth {
    return { status: "ok" };
  }

  /**
   * Waits for the calls in flight, then shuts the client down: terminating it
   * under a running query makes the SDK raise an unhandled rejection.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.inFlight]);
    await this.lock.idle();
    // A roll-forward a read left running: let it finish unless it is stuck
    // behind locks (then the next instance finishes the batch).
    await this.staged.drain(5_000);
    await this.db.terminate();
    await deleteApp(this.app);
  }

  /** Runs one call under the session's lock (none for `""`) and tracks it for `close()`. */
  private guarded<T>(session: string, work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error("firestore session store is closed"));
    const run = session === "" ? work() : this.lock.run(session, work);
    this.inFlight.add(run);
    void run.then(
      () => this.inFlight.delete(run),
      () => this.inFlight.delete(run),
    );
    return run;
  }

  private sessionRef(session: string): DocumentReference {
    return this.root.doc(session);
  }

  private keys(session: string): CollectionReference {
    return this.sessionRef(session).collection("keys");
  }

  private keyRef(session: string, key: string): DocumentReference {
    return this.keys(session).doc(keyDocId(key));
  }

  private partRef(keyRef: DocumentReference, index: number): DocumentReference {
    return keyRef.collection("parts").doc(String(index));
  }

  private async collect(
    session: string,
    snaps: readonly DocumentSnapshot[],
    into: Map<string, Versioned>,
  ): Promise<void> {
    for (const snap of snaps) {
      if (!snap.exists) continue;
      const doc = snap.data() as KeyDoc;
      try {
        let blob = Buffer.from(doc.d);
        if (doc.n > 1) {
          const parts = await this.db.getAll(
            ...Array.from({ length: doc.n - 1 }, (_, i) => this.partRef(snap.ref, i + 1)),
          );
          blob = Buffer.concat([
            blob,
            ...parts.map((part) => Buffer.from((part.data() as { d?: Uint8Array } | undefined)?.d ?? [])),
          ]);
          if (parts.some((part) => !part.exists)) throw new TypeError("missing part");
        }
        into.set(doc.k, { value: decodeValue(blob), version: doc.v });
      } catch (error) {
        const detail = error instanceof Error ? error.message : "undecodable";
        this.logger.error(
          { session, key: doc.k, path: snap.ref.path },
          "session store document is corrupt; left in place, session needs attention",
        );
        throw new CorruptEntryError(session, typeof doc.k === "string" ? doc.k : null, snap.ref.path, detail);
      }
    }
  }

  private async apply(
    session: string,
    writes: readonly VersionedWrite[],
    options: ApplyOptions,
    fence: FenceCheck | undefined,
  ): Promise<boolean> {
    const all = [...writes];
    if (options.clear === true) {
      const existing = (await this.keys(session).select("k").get()).docs.map((snap) => snap.get("k") as string);
      const written = new Set(writes.map((w) => w.key));
      for (const key of existing) if (!written.has(key)) all.push({ key, value: null, version: options.seq });
    }
    const encoded: EncodedWrite[] = all.map((w) => {
      assertKey(w.key);
      return { key: w.key, version: w.version, parts: w.value === null ? null : splitParts(encodeValue(w.value)) };
    });
    const seq = Math.max(options.seq, ...all.map((w) => w.version));
    const chunks = planChunks(encoded);
    if (chunks.length <= 1) {
      try {
        return await this.db.runTransaction(async (tx) => {
          const current = ((await tx.get(this.sessionRef(session))).data() ?? {}) as SessionDoc;
          if (current.pending != null) throw new PendingBatchFound();
          await fence?.(tx);
          if (options.onlyIfNewer === true && (current.seq ?? 0) >= options.seq) return false;
          await this.writeChunk(tx, session, encoded);
          tx.set(this.sessionRef(session), sessionUpdate(current, seq, options.complete), { merge: true });
          return true;
        });
      } catch (error) {
        if (!(error instanceof PendingBatchFound)) throw error;
        await this.staged.settle(session);
        return this.apply(session, writes, options, fence);
      }
    }
    return this.staged.apply(session, encoded, seq, options, fence);
  }

  /** Conditional writes of one chunk inside a transaction: a key is written only over an older version. */
  private async writeChunk(tx: Transaction, session: string, writes: readonly EncodedWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const refs = writes.map((w) => this.keyRef(session, w.key));
    const snaps = await tx.getAll(...refs);
    writes.forEach((write, i) => {
      const ref = refs[i]!;
      const snap = snaps[i]!;
      const old = snap.exists ? (snap.data() as KeyDoc) : undefined;
      if (old !== undefined && old.v >= write.version) return;
      if (old === undefined && write.parts === null) return;
      const oldParts = old?.n ?? 0;
      if (write.parts === null) {
        tx.delete(ref);
        for (let p = 1; p < oldParts; p++) tx.delete(this.partRef(ref, p));
        return;
      }
      tx.set(ref, { k: write.key, v: write.version, n: write.parts.length, d: write.parts[0]! });
      for (let p = 1; p < write.parts.length; p++) tx.set(this.partRef(ref, p), { d: write.parts[p]! });
      for (let p = write.parts.length; p < oldParts; p++) tx.delete(this.partRef(ref, p));
    });
  }
}

function stripVersions(found: Map<string, Versioned>): Map<string, StoredValue> {
  return new Map([...found].map(([key, { value }]) => [key, value]));
}
