/**
 * The session stores side by side. First the embedded ones, old and new in
 * one run: the file-per-key disk store (before sessions.db; now only the
 * upgrade's source) and the SQLite store:
 * - setMany of a 30-key batch (a handshake), sequential: p50/p99;
 * - setMany of 1 key (the per-message cost) on one session, on 8 at once,
 *   and on a session that already holds 850 keys, with CPU ms per call;
 * - a session of 850 keys: written in one setMany, then read whole by a
 *   fresh instance;
 * - 1,000 sessions' cold read: a fresh instance lists the sessions and reads
 *   each one's creds and a Signal session (what a restart of 1,000 logins does).
 * Then Firestore (emulator) and the tiered store in full mode on the 30-key
 * batch. `BENCH_SINGLE_ONLY=1`: only the embedded stores (no emulator).
 * Run: `npm run bench -- session-store`. Figures from one run compare stores
 * with each other; do not compare runs on different machines. A disk batch
 * resolves at its log's fdatasync and its files are written by background
 * checkpoints, which the CPU ms per call counts (the final one included);
 * a SQLite batch resolves at its WAL's fdatasync.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskSessionStore } from "../src/adapters/session-store/disk/disk.session-store.ts";
import { SqliteSessionStore } from "../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { createFirestoreStore, createSessionStore } from "../src/app/composition/session-stores.ts";
import type { SessionStore, StoredValue } from "../src/domain/ports/session-store.port.ts";
import { startFirestoreEmulator } from "../test/support/firestore-emulator.ts";
import {
  creds,
  handshakeBatch,
  latency,
  linkedSession,
  msSince,
  PRELOADED_KEYS,
  sessionRecord,
  WARMUP,
  type Latency,
  type LocalStoreKind,
} from "./support/session-store-local.ts";
import { printRuntime, printTable } from "./support/stats.ts";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 60);
const SINGLE_ROUNDS = Number(process.env["BENCH_SINGLE_ROUNDS"] ?? 400);
const COLD_SESSIONS = Number(process.env["BENCH_COLD_SESSIONS"] ?? 1000);

const kinds: readonly LocalStoreKind[] = [
  {
    name: "disk (old)",
    open: (dataDir) => new DiskSessionStore({ dataDir }),
    settle: (store) => (store as DiskSessionStore).checkpoint(),
  },
  {
    name: "sqlite (new)",
    open: (dataDir) => new SqliteSessionStore({ path: join(dataDir, "sessions.db") }),
    settle: async () => undefined,
  },
];

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "session-bench-"));
  dirs.push(dir);
  return dir;
}

async function batchLatency(store: SessionStore, after?: () => Promise<void>): Promise<Latency> {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    const entries = handshakeBatch(round);
    const start = process.hrtime.bigint();
    await store.setMany("bench", entries);
    if (after !== undefined) await after();
    if (round >= WARMUP) samples.push(msSince(start));
  }
  return latency(samples);
}

interface SingleResult extends Latency {
  readonly perSecond: number;
  readonly cpuMs: number;
}

/** Sequential 1-key setMany calls on `sessions` sessions at once; the store is closed at the end (its cost counted). */
async function singleKey(kind: LocalStoreKind, sessions: number, preloaded: boolean): Promise<SingleResult> {
  const store = kind.open(await tempDir());
  for (let s = 0; preloaded && s < sessions; s++) await store.setMany(`bench-1key-${s}`, linkedSession());
  await kind.settle(store);
  const samples: number[] = [];
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      for (let i = 0; i < SINGLE_ROUNDS + WARMUP; i++) {
        const start = process.hrtime.bigint();
        await store.setMany(`bench-1key-${s}`, sessionRecord(i));
        if (i >= WARMUP) samples.push(msSince(start));
      }
    }),
  );
  const seconds = msSince(started) / 1000;
  await store.close();
  const cpu = process.cpuUsage(cpuBefore);
  const calls = sessions * (SINGLE_ROUNDS + WARMUP);
  return { ...latency(samples), perSecond: calls / seconds, cpuMs: (cpu.user + cpu.system) / 1000 / calls };
}

/** A session of 850 keys: one setMany (until durable), then a fresh instance reads it whole. */
async function bigSession(kind: LocalStoreKind): Promise<{ writeMs: number; readMs: number }> {
  const dataDir = await tempDir();
  const writer = kind.open(dataDir);
  const entries = linkedSession();
  let start = process.hrtime.bigint();
  await writer.setMany("big", entries);
  const writeMs = msSince(start);
  await writer.close();
  const reader = kind.open(dataDir);
  start = process.hrtime.bigint();
  const all = await reader.entries("big");
  const readMs = msSince(start);
  if (all.size !== PRELOADED_KEYS) throw new Error(`${kind.name}: read ${all.size} keys`);
  await reader.close();
  return { writeMs, readMs };
}

/** 1,000 sessions written, the store closed; a fresh instance lists them and reads each one's creds and a Signal session. */
async function coldRead(kind: LocalStoreKind): Promise<{ writeS: number; readMs: number }> {
  const dataDir = await tempDir();
  const writer = kind.open(dataDir);
  let start = process.hrtime.bigint();
  for (let chunk = 0; chunk < COLD_SESSIONS; chunk += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, COLD_SESSIONS - chunk) }, (_, j) => {
        const i = chunk + j;
        const entries = new Map<string, StoredValue>([["creds", creds(i)], ...sessionRecord(i)]);
        for (let k = 0; k < 8; k++) entries.set(`pre-key-${k}`, { keyId: k, keyPair: { public: i, private: k } });
        return writer.setMany(`cold-${i}`, entries);
      }),
    );
  }
  await writer.close();
  const writeS = msSince(start) / 1000;
  start = process.hrtime.bigint();
  const reader = kind.open(dataDir);
  const sessions = await reader.listSessions();
  for (const session of sessions) {
    const got = await reader.getMany(session, ["creds", "session-407123456.0"]);
    if (got.size !== 2) throw new Error(`${kind.name}: ${session} read ${got.size} keys`);
  }
  const readMs = msSince(start);
  if (sessions.length !== COLD_SESSIONS) throw new Error(`${kind.name}: listed ${sessions.length} sessions`);
  await reader.close();
  return { writeS, readMs };
}

const f = (n: number, digits = 2) => n.toFixed(digits);

async function embedded(): Promise<void> {
  const rows: string[][] = [];
  for (const kind of kinds) {
    const store = kind.open(await tempDir());
    const r = await batchLatency(store);
    await store.close();
    rows.push([kind.name, f(r.p50), f(r.p99), f(r.mean)]);
  }
  console.log(`\nembedded stores: setMany of a 30-key batch, ${ROUNDS} rounds (${WARMUP} warm-up rounds dropped)\n`);
  printTable(["store", "p50 ms", "p99 ms", "mean ms"], rows);

  const singles: string[][] = [];
  for (const [sessions, preloaded] of [
    [1, false],
    [8, false],
    [1, true],
  ] as const) {
    for (const kind of kinds) {
      const r = await singleKey(kind, sessions, preloaded);
      const what = `${sessions === 1 ? "1 session" : `${sessions} sessions at once`}${preloaded ? `, ${PRELOADED_KEYS} keys in it` : ""}`;
      singles.push([kind.name, what, f(r.p50), f(r.p99), f(r.mean), f(r.perSecond, 0), f(r.cpuMs, 3)]);
    }
  }
  console.log(
    `\nembedded stores: sequential setMany of 1 key (the per-message cost), ${SINGLE_ROUNDS} calls per session\n`,
  );
  printTable(["store", "sessions", "p50 ms", "p99 ms", "mean ms", "setMany/s", "CPU ms/call"], singles);

  const big: string[][] = [];
  for (const kind of kinds) {
    const r = await bigSession(kind);
    big.push([kind.name, f(r.writeMs, 1), f(r.readMs, 1)]);
  }
  console.log(`\nembedded stores: a session of ${PRELOADED_KEYS} keys\n`);
  printTable(["store", "one setMany of all, ms", "entries() by a fresh instance, ms"], big);

  const cold: string[][] = [];
  for (const kind of kinds) {
    const r = await coldRead(kind);
    cold.push([kind.name, f(r.writeS, 1), f(r.readMs, 0), f((r.readMs * 1000) / COLD_SESSIONS, 0)]);
  }
  console.log(`\nembedded stores: ${COLD_SESSIONS} sessions (creds, a Signal session, 8 prekeys each), cold read\n`);
  printTable(["store", "write all, s", "open + list + read creds of each, ms", "per session, µs"], cold);
}

async function remote(): Promise<void> {
  const emulator = await startFirestoreEmulator("demo-bench");
  try {
    const rows: string[][] = [];
    const sqlite = new SqliteSessionStore({ path: join(await tempDir(), "sessions.db") });
    const base = await batchLatency(sqlite);
    await sqlite.close();
    rows.push(["sqlite", f(base.p50), f(base.p99), f(base.mean), "1.0x"]);
    const add = (name: string, r: Latency) =>
      rows.push([name, f(r.p50), f(r.p99), f(r.mean), `${f(r.p50 / base.p50, 1)}x`]);
    const firestore = await createFirestoreStore({
      projectId: emulator.projectId,
      emulatorHost: emulator.host,
      collection: "bench_firestore",
    });
    add("firestore (emulator)", await batchLatency(firestore));
    await firestore.close();
    const tiered = await createSessionStore({
      dataDir: await tempDir(),
      mode: "full",
      firestoreProjectId: emulator.projectId,
      firestoreEmulatorHost: emulator.host,
      firestoreCollection: "bench_tiered",
    });
    add("tiered full (returns after sqlite)", await batchLatency(tiered));
    add("tiered full (until in Firestore)", await batchLatency(tiered, () => tiered.flush()));
    await tiered.close();
    console.log(`\nsession stores: setMany of a 30-key batch, ${ROUNDS} rounds (${WARMUP} warm-up rounds dropped)\n`);
    printTable(["store", "p50 ms", "p99 ms", "mean ms", "p50 vs sqlite"], rows);
  } finally {
    await emulator.stop();
  }
}

printRuntime();
try {
  await embedded();
  if (process.env["BENCH_SINGLE_ONLY"] !== "1") await remote();
} finally {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
