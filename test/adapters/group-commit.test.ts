import { describe, expect, it } from "vitest";
import { GroupCommit, type TransactionControl } from "../../src/adapters/shared/sqlite/group-commit.ts";

/** A transaction log standing in for SQLite: records statements, commits what was released. */
class FakeTransactions implements TransactionControl {
  readonly log: string[] = [];
  readonly committed: string[][] = [];
  inTransaction = false;
  failCommit = false;
  #pending: string[] = [];
  #unit: string[] = [];
  #inSavepoint = false;

  write(value: string): void {
    (this.#inSavepoint ? this.#unit : this.#pending).push(value);
  }
  readonly durability: boolean[] = [];
  begin(durable: boolean): void {
    this.durability.push(durable);
    this.log.push("begin");
    this.inTransaction = true;
    this.#pending = [];
  }
  commit(): void {
    this.log.push("commit");
    if (this.failCommit) throw new Error("disk I/O error");
    this.committed.push(this.#pending);
    this.inTransaction = false;
  }
  rollback(): void {
    this.log.push("rollback");
    this.inTransaction = false;
    this.#pending = [];
  }
  savepoint(): void {
    this.#inSavepoint = true;
    this.#unit = [];
  }
  releaseSavepoint(): void {
    this.#inSavepoint = false;
    this.#pending.push(...this.#unit);
    this.#unit = [];
  }
  rollbackToSavepoint(): void {
    this.#unit = [];
  }
}

function setup(maxBatchSize?: number) {
  const tx = new FakeTransactions();
  const flushes: (() => void)[] = [];
  const group = new GroupCommit(tx, {
    schedule: (flush) => flushes.push(flush),
    ...(maxBatchSize ? { maxBatchSize } : {}),
  });
  const write = (value: string) => group.run(() => (tx.write(value), value));
  const flush = () => flushes.splice(0).forEach((f) => f());
  return { tx, group, write, flush };
}

const settled = async <T>(promise: Promise<T>): Promise<boolean> => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 0));
  return done;
};

describe("GroupCommit", () => {
  it("commits durably when any unit of the batch asks for it, and only then", async () => {
    const { tx, group, flush } = setup();
    const lease = () => group.run(() => tx.write("lease"), { durable: false });
    const leases = Promise.all([lease(), lease()]);
    flush();
    await leases;
    const mixed = Promise.all([lease(), group.run(() => tx.write("record"))]);
    flush();
    await mixed;
    expect(tx.durability).toEqual([false, true]);
  });

  it("writes work of one turn in one transaction and resolves each caller with its result", async () => {
    const { tx, write, flush } = setup();
    const results = Promise.all([write("a"), write("b"), write("c")]);
    flush();
    expect(await results).toEqual(["a", "b", "c"]);
    expect(tx.committed).toEqual([["a", "b", "c"]]);
    expect(tx.log).toEqual(["begin", "commit"]);
  });

  it("resolves nobody before the commit", async () => {
    const { tx, write, flush } = setup();
    const pending = write("a");
    expect(await settled(pending)).toBe(false);
    expect(tx.committed).toEqual([]);
    flush();
    expect(await pending).toBe("a");
  });

  it("rolls a failing unit back alone and rejects only its caller", async () => {
    const { tx, group, write, flush } = setup();
    const bad = group.run(() => {
      tx.write("half-done");
      throw new Error("constraint");
    });
    const results = Promise.allSettled([write("a"), bad, write("b")]);
    flush();
    expect((await results).map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(tx.committed).toEqual([["a", "b"]]);
  });

  it("runs each unit once when none fails", async () => {
    const { group, flush } = setup();
    let runs = 0;
    const results = Promise.all([group.run(() => ++runs), group.run(() => ++runs)]);
    flush();
    expect(await results).toEqual([1, 2]);
    expect(runs).toBe(2);
  });

  it("rejects every caller and keeps nothing when the commit fails", async () => {
    const { tx, write, flush } = setup();
    tx.failCommit = true;
    const results = Promise.allSettled([write("a"), write("b")]);
    flush();
    const outcomes = await results;
    expect(outcomes.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(tx.committed).toEqual([]);
    expect(tx.log).toEqual(["begin", "commit", "rollback"]);
  });

  it("rejects every caller when the database aborted the transaction mid-batch", async () => {
    const { tx, group, write, flush } = setup();
    const aborting = group.run(() => {
      tx.inTransaction = false;
      throw new Error("SQLITE_FULL");
    });
    const results = Promise.allSettled([write("a"), aborting, write("b")]);
    flush();
    expect((await results).map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(tx.committed).toEqual([]);
  });

  it("splits a large turn into transactions of at most maxBatchSize", async () => {
    const { tx, write, flush } = setup(2);
    const results = Promise.all(["a", "b", "c", "d", "e"].map(write));
    flush();
    await results;
    expect(tx.committed).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("flushes queued work on close, then refuses new work", async () => {
    const { tx, group, write } = setup();
    const queued = write("a");
    group.close(() => new Error("closed"));
    expect(await queued).toBe("a");
    expect(tx.committed).toEqual([["a"]]);
    await expect(write("b")).rejects.toThrow("closed");
  });

  describe("with durability outside the transaction", () => {
    function durableSetup() {
      const tx = new FakeTransactions();
      const flushes: (() => void)[] = [];
      const calls: string[] = [];
      let release!: (error?: Error) => void;
      let barrier = Promise.resolve();
      const open = () =>
        (barrier = new Promise<void>((resolve, reject) => {
          release = (error?: Error) => (error ? reject(error) : resolve());
        }));
      const durability = {
        request: () => (calls.push("request"), open()),
        settled: () => (calls.push("settled"), barrier),
      };
      const group = new GroupCommit(tx, { schedule: (flush) => flushes.push(flush), durability });
      const flush = () => flushes.splice(0).forEach((f) => f());
      return { tx, group, flush, calls, release: (error?: Error) => release(error) };
    }

    it("answers a durable batch only once its commit is synced", async () => {
      const { tx, group, flush, calls, release } = durableSetup();
      const write = group.run(() => (tx.write("a"), "a"));
      flush();
      expect(tx.committed).toEqual([["a"]]);
      expect(await settled(write)).toBe(false);
      expect(calls).toEqual(["request"]);
      release();
      expect(await write).toBe("a");
    });

    it("answers a batch that needs no durability only after the durable ones before it", async () => {
      const { tx, group, flush, calls, release } = durableSetup();
      const durable = group.run(() => (tx.write("accepted"), 1));
      flush();
      const lease = group.run(() => (tx.write("lease"), 2), { durable: false });
      flush();
      expect(calls).toEqual(["request", "settled"]);
      expect(await settled(lease)).toBe(false);
      release();
      expect(await Promise.all([durable, lease])).toEqual([1, 2]);
    });

    it("rejects the callers of a batch whose sync failed, each failed unit with its own error", async () => {
      const { tx, group, flush, release } = durableSetup();
      const ok = group.run(() => (tx.write("a"), "a"));
      const bad = group.run(() => {
        throw new Error("constraint");
      });
      flush();
      release(new Error("EIO"));
      await expect(ok).rejects.toThrow("EIO");
      await expect(bad).rejects.toThrow("constraint");
    });
  });
});
