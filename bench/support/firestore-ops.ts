import { Firestore, Query, Transaction, WriteBatch } from "firebase-admin/firestore";

/**
 * Counts what Firestore bills, by patching the client library's prototypes
 * in this process only (benchmarks; never the product): a document lookup
 * is one read whether or not the document exists; a query reads the
 * documents it returns, at least one; an aggregation (count) one per 1,000
 * index entries, at least one; each set, create or update is one write,
 * each delete one delete. Every write of a transaction or batch goes
 * through a WriteBatch, so counting there counts each once. A transaction
 * that Firestore aborts and the client retries is counted again, as billed.
 */
export interface OpCounts {
  reads: number;
  writes: number;
  deletes: number;
}

export const ops: OpCounts = { reads: 0, writes: 0, deletes: 0 };

export function resetOps(): OpCounts {
  const before = { ...ops };
  ops.reads = 0;
  ops.writes = 0;
  ops.deletes = 0;
  return before;
}

type Method = (this: unknown, ...args: never[]) => Promise<unknown> | unknown;

function wrap<T extends object>(proto: T, name: string, count: (args: unknown[], result: unknown) => void): void {
  const original = (proto as Record<string, Method>)[name];
  if (typeof original !== "function") throw new Error(`cannot count ${name}: not a method`);
  (proto as Record<string, Method>)[name] = function (this: unknown, ...args: never[]) {
    const result = original.apply(this, args);
    if (result instanceof Promise) return result.then((value) => (count(args, value), value));
    count(args, result);
    return result;
  };
}

function docsOf(result: unknown): number {
  if (Array.isArray(result)) return result.length;
  const r = result as { size?: number; docs?: unknown[] };
  if (typeof r.size === "number") return Math.max(1, r.size);
  return 1;
}

let installed = false;

/** Patches the library once; counts accumulate in {@link ops}. */
export function countFirestoreOps(): void {
  if (installed) return;
  installed = true;
  wrap(Firestore.prototype, "getAll", (_args, result) => (ops.reads += docsOf(result)));
  wrap(Query.prototype, "get", (_args, result) => (ops.reads += docsOf(result)));
  wrap(Transaction.prototype, "get", (_args, result) => (ops.reads += docsOf(result)));
  wrap(Transaction.prototype, "getAll", (_args, result) => (ops.reads += docsOf(result)));
  // AggregateQuery is not exported: its prototype is patched from the first one made.
  let aggregates = false;
  wrap(Query.prototype, "count", (_args, aggregate) => {
    if (aggregates) return;
    aggregates = true;
    wrap(Object.getPrototypeOf(aggregate) as object, "get", (_a, result) => {
      const count = (result as { data(): { count?: number } }).data().count ?? 0;
      ops.reads += Math.max(1, Math.ceil(count / 1000));
    });
  });
  for (const name of ["set", "create", "update"]) wrap(WriteBatch.prototype, name, () => (ops.writes += 1));
  wrap(WriteBatch.prototype, "delete", () => (ops.deletes += 1));
}
