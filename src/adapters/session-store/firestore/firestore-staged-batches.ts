import { randomBytes } from "node:crypto";
import { FieldValue, type DocumentReference, type Firestore, type Transaction } from "firebase-admin/firestore";
import type { Logger } from "../../../domain/ports/logger.port.ts";
import { LeaseLostError } from "../../../domain/session-lease.ts";
import type { ApplyOptions, Versioned } from "../shared/versioned-tier.ts";
import { decodeValue } from "./firestore-codec.ts";
import { decodeStaged, encodeStaged, planChunks, type EncodedWrite } from "./firestore-batches.ts";
import type { FenceCheck } from "./firestore-fence.ts";

/**
 * How long a read waits for a pending staged batch to be rolled forward
 * before it answers from the key documents overlaid with the batch. Rolling
 * forward takes write locks; an instance that died inside one of its
 * transactions leaves read locks that Firestore releases only when that
 * transaction expires (up to 60 s idle), and a restore must not wait that long.
 */
const READ_ROLL_FORWARD_BUDGET_MS = 2_000;

/** The session document: `{collection}/{session}`. */
export interface SessionDoc {
  readonly seq?: number;
  readonly complete?: boolean;
  /** A batch too large for one commit, committed but maybe not yet applied. */
  readonly pending?: {
    readonly batch: string;
    readonly parts: number;
    readonly seq: number;
    readonly complete: boolean | null;
  } | null;
}

export type PendingBatch = NonNullable<SessionDoc["pending"]>;

export interface StagedBatchesDeps {
  readonly db: Firestore;
  readonly sessionRef: (session: string) => DocumentReference;
  /** Conditional writes of one chunk inside a transaction (a key only over an older version). */
  readonly writeChunk: (tx: Transaction, session: string, writes: readonly EncodedWrite[]) => Promise<void>;
  readonly logger: Logger;
  /** Test-only: throwing from it simulates a crash right after a staged batch's commit point. */
  readonly afterStagedCommit?: () => void;
}

/**
 * Batches too large for one Firestore commit: staged in `.../staging/*`,
 * committed by one write of the session document (`pending`), then rolled
 * forward in chunks. Whoever touches the session next finishes a pending
 * batch; reads wait for that only a short while (see
 * {@link READ_ROLL_FORWARD_BUDGET_MS}).
 */
export class StagedBatches {
  /** Roll-forwards under way, by session and batch. */
  private readonly rolling = new Map<string, Promise<void>>();

  constructor(private readonly deps: StagedBatchesDeps) {}

  /**
   * The session document for a read. A pending staged batch is rolled
   * forward, but for at most {@link READ_ROLL_FORWARD_BUDGET_MS}: past that
   * (its documents are locked by a transaction of a dead instance) the read
   * goes on with the batch itself, read from its staging documents (plain
   * reads take no locks), and the session document as the roll-forward will
   * leave it. The roll-forward carries on in the background; the next write
   * waits for it.
   */
  async settleForRead(session: string): Promise<{ doc: SessionDoc; staged?: readonly EncodedWrite[] }> {
    const doc = ((await this.deps.sessionRef(session).get()).data() ?? {}) as SessionDoc;
    const pending = doc.pending;
    if (pending == null) return { doc };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const rolled = this.rollForwardOnce(session, pending);
    const finished = await Promise.race([
      // A roll-forward that failed is retried by the next write; this read goes on from staging.
      rolled.then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), READ_ROLL_FORWARD_BUDGET_MS))),
    ]).finally(() => clearTimeout(timer));
    if (finished) return { doc: ((await this.deps.sessionRef(session).get()).data() ?? {}) as SessionDoc };
    this.deps.logger.warn(
      { session, batch: pending.batch },
      "firestore session store: a staged batch is still locked (an earlier instance died in a transaction); reading it from staging meanwhile",
    );
    const staged = await this.stagedWrites(session, pending);
    // Gone meanwhile: the roll-forward finished (it removes the staging documents last).
    if (staged === undefined) return { doc: ((await this.deps.sessionRef(session).get()).data() ?? {}) as SessionDoc };
    const seq = Math.max(doc.seq ?? 0, pending.seq);
    return { doc: { ...doc, seq, ...(pending.complete === null ? {} : { complete: pending.complete }) }, staged };
  }

  /** One roll-forward of a batch at a time: reads that gave up waiting leave it running, later reads join it. */
  private rollForwardOnce(session: string, pending: PendingBatch): Promise<void> {
    const key = `${session}\u0000${pending.batch}`;
    let running = this.rolling.get(key);
    if (running === undefined) {
      running = this.rollForward(session, pending).finally(() => this.rolling.delete(key));
      // A read that stopped waiting must not leave a rejection unhandled; the next write retries it.
      running.catch((error: unknown) =>
        this.deps.logger.warn(
          { session, err: error instanceof Error ? error.message : String(error) },
          "firestore session store: rolling a staged batch forward failed; the next write retries",
        ),
      );
      this.rolling.set(key, running);
    }
    return running;
  }

  /** The writes of a committed staged batch, or undefined when its staging documents are gone (rolled forward). */
  private async stagedWrites(session: string, pending: PendingBatch): Promise<EncodedWrite[] | undefined> {
    const staging = this.deps.sessionRef(session).collection("staging");
    const snaps = await this.deps.db.getAll(
      ...Array.from({ length: pending.parts }, (_, i) => staging.doc(`${pending.batch}-${i}`)),
    );
    if (snaps.some((snap) => !snap.exists)) return undefined;
    return decodeStaged(snaps.map((snap) => Buffer.from((snap.data() as { d: Uint8Array }).d)));
  }

  /** Reads the session document, finishing a staged batch first if one is pending. */
  async settle(session: string): Promise<SessionDoc> {
    const doc = ((await this.deps.sessionRef(session).get()).data() ?? {}) as SessionDoc;
    if (doc.pending == null) return doc;
    await this.rollForwardOnce(session, doc.pending);
    return ((await this.deps.sessionRef(session).get()).data() ?? {}) as SessionDoc;
  }

  /**
   * A batch too large for one commit: stage it, commit it by marking the
   * session document (the commit point), then roll it forward. A crash after
   * the mark is finished by the next reader; before it, it left only staging
   * documents, which the next staged batch of the session sweeps. With a
   * `fence` (cluster mode) both the sweep and the commit point are checked
   * against the session's lease, and a refused batch removes its own
   * staging documents only.
   */
  async apply(
    session: string,
    writes: readonly EncodedWrite[],
    seq: number,
    options: ApplyOptions,
    fence?: FenceCheck,
  ): Promise<boolean> {
    const staging = this.deps.sessionRef(session).collection("staging");
    await this.sweepStaging(session, fence);
    const batch = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
    const blobs = encodeStaged(writes);
    for (let i = 0; i < blobs.length; i += 8) {
      const commit = this.deps.db.batch();
      blobs.slice(i, i + 8).forEach((blob, j) => commit.set(staging.doc(`${batch}-${i + j}`), { d: blob }));
      await commit.commit();
    }
    const pending = { batch, parts: blobs.length, seq, complete: options.complete ?? null };
    const committed = await this.deps.db
      .runTransaction(async (tx) => {
        const current = ((await tx.get(this.deps.sessionRef(session))).data() ?? {}) as SessionDoc;
        await fence?.(tx);
        if (options.onlyIfNewer === true && (current.seq ?? 0) >= options.seq) return false;
        tx.set(this.deps.sessionRef(session), { pending }, { merge: true });
        return true;
      })
      .catch(async (error: unknown) => {
        // Refused by the fence, so surely not committed: remove this batch's staging, and only it (the
        // lease's owner may be staging its own). Any other error may hide a commit, so staging stays.
        if (error instanceof LeaseLostError) {
          for (let i = 0; i < blobs.length; i++) await staging.doc(`${batch}-${i}`).delete();
        }
        throw error;
      });
    if (!committed) {
      for (const doc of await staging.listDocuments()) await doc.delete();
      return false;
    }
    this.deps.afterStagedCommit?.();
    await this.rollForward(session, pending);
    return true;
  }

  /**
   * Removes staging documents a crashed or refused batch left. Fenced, the
   * deletes run in transactions that check the lease, so a stale writer
   * cannot sweep away the batch the new owner is staging.
   */
  private async sweepStaging(session: string, fence: FenceCheck | undefined): Promise<void> {
    const stale = await this.deps.sessionRef(session).collection("staging").listDocuments();
    if (fence === undefined) {
      for (const ref of stale) await ref.delete();
      return;
    }
    // At least one fenced transaction, so a stale writer is refused before it stages anything.
    for (let i = 0; i < stale.length || i === 0; i += 400) {
      await this.deps.db.runTransaction(async (tx) => {
        await fence(tx);
        for (const ref of stale.slice(i, i + 400)) tx.delete(ref);
      });
    }
  }

  private async rollForward(session: string, pending: PendingBatch): Promise<void> {
    const staging = this.deps.sessionRef(session).collection("staging");
    const refs = Array.from({ length: pending.parts }, (_, i) => staging.doc(`${pending.batch}-${i}`));
    const snaps = await this.deps.db.getAll(...refs);
    const writes = decodeStaged(snaps.map((snap) => Buffer.from((snap.data() as { d: Uint8Array }).d)));
    for (const chunk of planChunks(writes)) {
      await this.deps.db.runTransaction(async (tx) => this.deps.writeChunk(tx, session, chunk));
    }
    await this.deps.db.runTransaction(async (tx) => {
      const current = ((await tx.get(this.deps.sessionRef(session))).data() ?? {}) as SessionDoc;
      if (current.pending?.batch !== pending.batch) return;
      tx.set(
        this.deps.sessionRef(session),
        { ...sessionUpdate(current, pending.seq, pending.complete ?? undefined), pending: FieldValue.delete() },
        { merge: true },
      );
    });
    for (const ref of refs) await ref.delete();
    this.deps.logger.info({ session, writes: writes.length }, "session store staged batch applied");
  }

  /** Waits for the roll-forwards still running, at most `maxMs` (one stuck behind locks is left to the next instance). */
  async drain(maxMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.rolling.values()]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs))),
    ]).finally(() => clearTimeout(timer));
  }
}

export function sessionUpdate(
  current: SessionDoc,
  seq: number,
  complete: boolean | undefined,
): Record<string, unknown> {
  const update: Record<string, unknown> = {
    seq: Math.max(current.seq ?? 0, seq),
    updatedAt: FieldValue.serverTimestamp(),
  };
  if (complete !== undefined) update["complete"] = complete;
  return update;
}

/**
 * Lays a committed staged batch that is not rolled forward yet over the key
 * documents read for a session, the way rolling it forward would: a write
 * wins only over an older version (or a missing key), a removal drops the
 * key. `only`: the keys asked for (all of the batch's keys when absent).
 */
export function overlayStaged(
  found: Map<string, Versioned>,
  writes: readonly EncodedWrite[],
  only?: ReadonlySet<string>,
): void {
  for (const write of writes) {
    if (only !== undefined && !only.has(write.key)) continue;
    const current = found.get(write.key);
    if (current !== undefined && current.version >= write.version) continue;
    if (write.parts === null) found.delete(write.key);
    else found.set(write.key, { value: decodeValue(Buffer.concat(write.parts)), version: write.version });
  }
}
