import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  encodeBatch,
  type BatchRecord,
  type DeltaRecord,
} from "../../../src/adapters/session-store/disk/disk-files.ts";
import { keyToFileName } from "../../../src/adapters/session-store/disk/disk-key-names.ts";
import type { DiskSessionStore } from "../../../src/adapters/session-store/disk/disk.session-store.ts";
import { type SyncFn } from "../../../src/adapters/session-store/disk/durable-sync.ts";
import { frameRecord } from "../../../src/adapters/session-store/disk/log-frames.ts";
import { encodeBufferJson } from "../../../src/adapters/session-store/shared/buffer-json.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { crash, diskStoreHarness, failingSync, realSync } from "./disk-store-harness.ts";

/*
 * The session index (`.meta`) under the write-ahead log: a log record holds
 * only the index change of its batch, `.meta` is written at checkpoints, and
 * replay merges the changes over it (see `write-ahead-log.ts`).
 */
// No timed checkpoint: each test says when one runs.
const disk = diskStoreHarness("disk-index-", { checkpoint: { intervalMs: 60_000 } });
const { open, root, sessionDir, logFiles } = disk;

const metaPath = (session: string) => join(sessionDir(session), ".meta");
const readMeta = async (session: string) => JSON.parse(await readFile(metaPath(session), "utf8")) as unknown;

/** A record as a dead store of this version leaves it: only what the batch changed in the index. */
function deltaRecord(session: string, seq: number, values: Record<string, StoredValue | null>): DeltaRecord {
  const entries = Object.entries(values);
  const file = (key: string) => keyToFileName(key);
  return {
    format: 2,
    session,
    put: entries.flatMap(([key, value]) => (value === null ? [] : [[file(key), encodeBufferJson(value)] as const])),
    del: entries.flatMap(([key, value]) => (value === null ? [file(key)] : [])),
    delta: {
      seq,
      versions: entries.map(([key, value]) => [key, value === null ? null : seq] as const),
      names: entries.flatMap(([key, value]) =>
        file(key).startsWith("%H") ? [[file(key), value === null ? null : key] as const] : [],
      ),
    },
  };
}

const frames = (...records: BatchRecord[]) => Buffer.concat(records.map((r) => frameRecord(encodeBatch(r))));

async function writeDeadLog(name: string, bytes: Buffer): Promise<void> {
  await mkdir(root(), { recursive: true, mode: 0o700 });
  await writeFile(join(root(), name), bytes, { mode: 0o600 });
}

/** A session as a store this version checkpointed left it: its key files and `.meta`. */
async function writeSession(
  session: string,
  seq: number,
  values: Record<string, [value: StoredValue, version: number]>,
): Promise<void> {
  await mkdir(sessionDir(session), { recursive: true, mode: 0o700 });
  for (const [key, [value]] of Object.entries(values))
    await writeFile(join(sessionDir(session), keyToFileName(key)), encodeBufferJson(value), { mode: 0o600 });
  const versions = Object.fromEntries(Object.entries(values).map(([key, [, version]]) => [key, version]));
  await writeFile(metaPath(session), JSON.stringify({ format: 1, seq, versions, names: {} }), { mode: 0o600 });
}

async function snapshot(store: DiskSessionStore, session: string) {
  return { entries: await store.entriesVersioned(session), seq: (await store.sessionMeta(session)).seq };
}

const LONG = "sender-key-".padEnd(300, "x"); // a key whose file name is hashed

describe("DiskSessionStore index: replay of index deltas", () => {
  it("merges delta records over an older .meta: keys they do not touch keep their version", async () => {
    await writeSession("s", 3, { a: ["a1", 1], b: ["b2", 2], keep: ["keep3", 3] });
    await writeDeadLog(
      ".wal-dead-0000000001",
      frames(deltaRecord("s", 4, { a: "a4", b: null, [LONG]: "long4" }), deltaRecord("s", 5, { c: "c5" })),
    );
    const store = open();
    expect(await snapshot(store, "s")).toEqual({
      entries: new Map([
        ["a", { value: "a4", version: 4 }],
        ["keep", { value: "keep3", version: 3 }],
        [LONG, { value: "long4", version: 4 }],
        ["c", { value: "c5", version: 5 }],
      ]),
      seq: 5,
    });
    // The merged index was written (durably) before the log was removed.
    expect(await readMeta("s")).toEqual({
      format: 1,
      seq: 5,
      versions: { a: 4, keep: 3, [LONG]: 4, c: 5 },
      names: { [keyToFileName(LONG)]: LONG },
    });
    expect(await logFiles()).toEqual([]);
    expect((await stat(metaPath("s"))).mode & 0o777).toBe(0o600);
  });

  it("replaying a log again over the .meta its first replay wrote, or twice in one recovery, gives the same session", async () => {
    await writeSession("s", 1, { a: ["a1", 1], b: ["b1", 1] });
    const log = frames(
      deltaRecord("s", 2, { a: "a2", [LONG]: "long2", c: "c2" }),
      deltaRecord("s", 3, { [LONG]: null, b: null, c: "c3" }),
      deltaRecord("s", 4, { [LONG]: "long4", b: "b4" }),
    );
    await writeDeadLog(".wal-dead-0000000001", log);
    const first = open();
    const once = await snapshot(first, "s");
    await first.close();
    const metaOnce = await readMeta("s");
    expect(once.entries.get(LONG)).toEqual({ value: "long4", version: 4 });

    // A crash during recovery, after .meta was written but before the log was removed.
    await writeDeadLog(".wal-dead-0000000001", log);
    const second = open();
    expect(await snapshot(second, "s")).toEqual(once);
    await second.close();
    expect(await readMeta("s")).toEqual(metaOnce);

    await writeDeadLog(".wal-dead-0000000002", log);
    await writeDeadLog(".wal-dead-0000000003", log);
    expect(await snapshot(open(), "s")).toEqual(once);
    expect(await readMeta("s")).toEqual(metaOnce);
  });

  it("replays a log of the earlier record format (a whole index per record), then delta records after it", async () => {
    await writeSession("s", 1, { old: ["old1", 1], stays: ["stays1", 1] });
    const wholeIndex: BatchRecord = {
      format: 1,
      session: "s",
      put: [["a.json", encodeBufferJson("a2")]],
      del: [],
      meta: { format: 1, seq: 2, versions: { old: 1, stays: 1, a: 2 }, names: {} },
    };
    await writeDeadLog(".wal-0older0000-0000000001", frames(wholeIndex));
    await writeDeadLog(".wal-1newer0000-0000000001", frames(deltaRecord("s", 3, { old: null, b: "b3" })));
    const store = open();
    expect(await snapshot(store, "s")).toEqual({
      entries: new Map([
        ["stays", { value: "stays1", version: 1 }],
        ["a", { value: "a2", version: 2 }],
        ["b", { value: "b3", version: 3 }],
      ]),
      seq: 3,
    });
    expect(await readMeta("s")).toEqual({ format: 1, seq: 3, versions: { stays: 1, a: 2, b: 3 }, names: {} });
  });
});

describe("DiskSessionStore index: .meta at checkpoints", () => {
  it("does not rewrite .meta per batch, only at a checkpoint", async () => {
    const store = open();
    await store.setMany("s", new Map([["creds", 1]]));
    await store.checkpoint();
    const written = async () => ({
      text: await readFile(metaPath("s"), "utf8"),
      inode: (await stat(metaPath("s"))).ino,
    });
    const atCheckpoint = await written();
    for (let i = 0; i < 20; i++) await store.setMany("s", new Map([["session-1.0", i]]));
    // A rewrite goes through a temp file and a rename: it would change the inode, and the sequence in the text.
    expect(await written()).toEqual(atCheckpoint);
    await store.checkpoint();
    expect(await readMeta("s")).toEqual({ format: 1, seq: 21, versions: { creds: 1, "session-1.0": 21 }, names: {} });
  });

  it("a crash after commits that no checkpoint wrote to .meta: reopening sees every committed key with its version", async () => {
    let armed = false;
    const store = open({ crashPoints: { afterCommit: () => (armed ? crash() : undefined) } });
    await store.setMany(
      "s",
      new Map([
        ["a", "a1"],
        ["b", "b1"],
      ]),
    );
    await store.checkpoint();
    const atCheckpoint = await readMeta("s");
    await store.setMany(
      "s",
      new Map([
        ["b", "b2"],
        ["c", "c2"],
      ]),
    );
    await store.setMany(
      "s",
      new Map<string, StoredValue | null>([
        ["a", null],
        [LONG, "long3"],
      ]),
    );
    armed = true;
    await expect(store.setMany("s", new Map([["d", "d4"]]))).rejects.toThrow("simulated crash");
    expect(await readMeta("s")).toEqual(atCheckpoint);

    const reopened = open();
    expect(await snapshot(reopened, "s")).toEqual({
      entries: new Map([
        ["b", { value: "b2", version: 2 }],
        ["c", { value: "c2", version: 2 }],
        [LONG, { value: "long3", version: 3 }],
        ["d", { value: "d4", version: 4 }],
      ]),
      seq: 4,
    });
  });

  it("a checkpoint racing with a batch of the next generation writes a newer .meta, which the kept log replays over", async () => {
    let gate: Promise<void> | null = null;
    let reachGate = () => {};
    const atGate = new Promise<void>((resolve) => (reachGate = resolve));
    // The checkpoint's first file sync is the first session's .meta: it waits there.
    const sync: SyncFn = async (handle, what) => {
      const waitFor = what === "file" ? gate : null;
      if (waitFor !== null) {
        gate = null;
        reachGate();
        await waitFor;
      }
      await realSync(handle, what);
    };
    let armed = false;
    const store = open({ sync, crashPoints: { afterCommit: () => (armed ? crash() : undefined) } });
    await store.setMany("s1", new Map([["x", "x1"]]));
    await store.setMany(
      "s2",
      new Map([
        ["a", "a1"],
        ["b", "b1"],
      ]),
    );
    let openGate = () => {};
    gate = new Promise<void>((resolve) => (openGate = resolve));
    const checkpoint = store.checkpoint();
    await atGate;
    // s1's .meta is being written; s2's is next, and this batch lands in the next generation first.
    await store.setMany(
      "s2",
      new Map<string, StoredValue | null>([
        ["a", "a2"],
        ["b", null],
        ["c", "c2"],
      ]),
    );
    openGate();
    await checkpoint;
    expect(await readMeta("s2")).toEqual({ format: 1, seq: 2, versions: { a: 2, c: 2 }, names: {} });
    expect(await logFiles()).toHaveLength(1);

    armed = true;
    await expect(store.setMany("s2", new Map([["d", "d3"]]))).rejects.toThrow("simulated crash");
    const reopened = open();
    expect(await snapshot(reopened, "s2")).toEqual({
      entries: new Map([
        ["a", { value: "a2", version: 2 }],
        ["c", { value: "c2", version: 2 }],
        ["d", { value: "d3", version: 3 }],
      ]),
      seq: 3,
    });
    expect(await snapshot(reopened, "s1")).toEqual({ entries: new Map([["x", { value: "x1", version: 1 }]]), seq: 1 });
  });

  it("a batch whose log write failed leaves the index as it was: reads do not see it", async () => {
    const syncs = failingSync("log");
    const store = open({ sync: syncs.sync });
    await store.setMany("s", new Map([["a", "a1"]]));
    syncs.fail();
    await expect(
      store.setMany(
        "s",
        new Map<string, StoredValue | null>([
          ["a", null],
          ["b", "b2"],
        ]),
      ),
    ).rejects.toThrow("EIO");
    expect(store.health().status).toBe("degraded");
    expect(await snapshot(store, "s")).toEqual({ entries: new Map([["a", { value: "a1", version: 1 }]]), seq: 1 });
  });
});
