import {
  Timestamp,
  type CollectionReference,
  type DocumentReference,
  type Transaction,
} from "firebase-admin/firestore";
import type { EarlyStatus, EarlyStatusKey, EarlyStatusLimits } from "../../../domain/early-statuses.ts";
import { keepEarlyStatus } from "../../../domain/early-statuses.ts";
import { hashedId } from "../../shared/firestore/firestore-app.ts";

/**
 * One document of `early` per provider id that status reports named before
 * any message had it: the reports, oldest first. `reportedAt` is the newest
 * report's time (the cap drops the documents with the oldest first);
 * `expireAt` is for a Firestore TTL policy, which deletes expired documents
 * for free (reads are what cost): the domain never applies a report past
 * its retention anyway (isRetained), so until the TTL sweeps, a stale one
 * only takes room.
 */
interface EarlyDoc {
  readonly provider: string;
  readonly providerMessageId: string;
  readonly reports: readonly EarlyStatus[];
  readonly reportedAt: number;
  readonly expireAt: Timestamp;
}

/**
 * The early status reports (see domain/early-statuses.ts) on Firestore. A
 * report is kept, and taken, inside the transaction that decided it; the
 * kept and the taking transactions both read the document of the provider
 * id, so a report kept while the message's provider id is being recorded is
 * either taken by that transaction or sees the message (Firestore aborts
 * and retries one of them).
 */
export class EarlyReports {
  readonly #collection: CollectionReference;
  readonly #limits: EarlyStatusLimits;

  constructor(collection: CollectionReference, limits: EarlyStatusLimits) {
    this.#collection = collection;
    this.#limits = limits;
  }

  ref(key: EarlyStatusKey): DocumentReference {
    return this.#collection.doc(hashedId(key.provider, key.providerMessageId));
  }

  /** Reads the reports kept for `key` in `tx`, oldest first (empty when none). */
  async read(tx: Transaction, key: EarlyStatusKey): Promise<readonly EarlyStatus[]> {
    const snap = await tx.get(this.ref(key));
    return snap.exists ? (snap.data() as EarlyDoc).reports : [];
  }

  /** Writes `report` after the ones `kept` for its id (read in `tx`), dropping those past the retention. */
  keep(tx: Transaction, kept: readonly EarlyStatus[], report: EarlyStatus, now: Date): void {
    const reports = keepEarlyStatus(kept, report, now, this.#limits);
    const doc: EarlyDoc = {
      provider: report.provider,
      providerMessageId: report.providerMessageId,
      reports,
      reportedAt: report.reportedAt,
      expireAt: Timestamp.fromMillis(report.reportedAt + this.#limits.retentionMs),
    };
    tx.set(this.ref(report), doc);
  }

  /** Forgets the reports of `key` (they were applied), in `tx`. */
  forget(tx: Transaction, key: EarlyStatusKey): void {
    tx.delete(this.ref(key));
  }

  /**
   * Holds the count of provider ids with kept reports to the cap, dropping
   * those reported longest ago. Runs after the keeping commit, outside it:
   * a count costs one read per 1,000 documents, and two instances pruning at
   * once only delete the same documents twice.
   */
  async prune(): Promise<void> {
    const count = (await this.#collection.count().get()).data().count;
    const excess = count - this.#limits.max;
    if (excess <= 0) return;
    const oldest = await this.#collection.orderBy("reportedAt").limit(Math.min(excess, 500)).select().get();
    const batch = this.#collection.firestore.batch();
    for (const doc of oldest.docs) batch.delete(doc.ref);
    await batch.commit();
  }
}
