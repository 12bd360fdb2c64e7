import { AsyncLocalStorage } from "node:async_hooks";
import { addTransactionCapability, type SignalDataTypeMap, type SignalKeyStore } from "@whiskeysockets/baileys";
import { afterAll, describe, expect, it } from "vitest";
import { openSession, outbound, silentLogger, startSim } from "./harness.ts";

// Every AsyncLocalStorage that has run something is walked by every promise
// the process creates (Node 20, before AsyncContextFrame). Baileys made one
// per key store, so one per session; our patch (patches/...+002+...) makes
// them share one. This file runs in its own process (vitest's forks pool),
// so the storages counted here are this file's alone.
const used = new Set<AsyncLocalStorage<unknown>>();
const originalRun = AsyncLocalStorage.prototype.run;
AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: unknown[]) {
  used.add(this);
  return (originalRun as (...a: unknown[]) => unknown).apply(this, args);
} as typeof originalRun;
afterAll(() => {
  AsyncLocalStorage.prototype.run = originalRun;
});

type Rows = { [type: string]: { [id: string]: unknown } };

/** A key store over a plain object, wrapped the way Baileys wraps every session's keys. */
function transactionalStore(): { rows: Rows; keys: ReturnType<typeof addTransactionCapability> } {
  const rows: Rows = {};
  const state: SignalKeyStore = {
    get: async (type, ids) =>
      Object.fromEntries(ids.filter((id) => rows[type]?.[id] !== undefined).map((id) => [id, rows[type]![id]])) as {
        [id: string]: SignalDataTypeMap[typeof type];
      },
    set: async (data) => {
      for (const [type, values] of Object.entries(data)) Object.assign((rows[type] ??= {}), values);
    },
  };
  return { rows, keys: addTransactionCapability(state, silentLogger, { maxCommitRetries: 1, delayBetweenTriesMs: 1 }) };
}

describe("Baileys key stores share one AsyncLocalStorage", () => {
  it("four live sessions that each send use one storage for their transactions, not four", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const phones = ["15550401101", "15550401102", "15550401103", "15550401104"];
    const sessions = [];
    for (const phone of phones) sessions.push(await openSession(sim, phone));
    used.clear();
    for (const [i, { connection }] of sessions.entries()) await connection.send(outbound("15550409101", `hi ${i}`));

    expect(sim.messages(phones[0]!).map((m) => m.text)).toEqual(["hi 0"]);
    expect(sim.messages(phones[3]!).map((m) => m.text)).toEqual(["hi 3"]);
    expect(used.size).toBe(1);
  });

  it("a store's transaction stays its own inside another store's transaction", async () => {
    const a = transactionalStore();
    const b = transactionalStore();
    const seen: Record<string, unknown> = {};
    await a.keys.transaction(async () => {
      await b.keys.transaction(async () => {
        await a.keys.set({ session: { nested: Buffer.from("a") } });
        await b.keys.set({ session: { inner: Buffer.from("b") } });
        seen.aInTransaction = a.keys.isInTransaction();
        seen.bInTransaction = b.keys.isInTransaction();
        seen.aBeforeItsCommit = a.rows.session?.nested;
      }, "b");
      // b committed at the end of its own transaction; a still holds its write.
      seen.bAfterItsCommit = b.rows.session?.inner;
      seen.bStillInTransaction = b.keys.isInTransaction();
      seen.aStillBeforeItsCommit = a.rows.session?.nested;
    }, "a");

    expect(seen).toEqual({
      aInTransaction: true,
      bInTransaction: true,
      aBeforeItsCommit: undefined,
      bAfterItsCommit: Buffer.from("b"),
      bStillInTransaction: false,
      aStillBeforeItsCommit: undefined,
    });
    expect(a.rows.session?.nested).toEqual(Buffer.from("a"));
    expect(a.keys.isInTransaction()).toBe(false);
  });

  it("outside any transaction a store writes straight through", async () => {
    const a = transactionalStore();
    await a.keys.set({ session: { direct: Buffer.from("x") } });
    expect(a.rows.session?.direct).toEqual(Buffer.from("x"));
    expect(a.keys.isInTransaction()).toBe(false);
  });
});
