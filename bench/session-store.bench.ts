/**
 * keys.set latency for a 30-key batch (what Baileys writes after a
 * handshake) on each session store: disk, Firestore (emulator) and the
 * tiered store in full mode (disk first, Firestore behind its outbox; also
 * timed until Firestore has the batch). Run: `npx tsx bench/session-store.bench.ts`.
 * Also, on the disk store alone: a sequential loop of 1-key setMany calls
 * (what every WhatsApp send costs: one Signal session record) and the same
 * on several sessions at once (throughput with group commit), and on a
 * session that already holds 850 keys (a linked session after its prekey
 * upload), where a batch's cost must not grow with the session's size.
 * A disk batch resolves at its log's fdatasync; its files are written by
 * the checkpoints (every second, and at close), which run in the
 * background: the CPU ms per call counts them, the final one included.
 * Figures from one run compare stores with each other; do not compare runs
 * on different machines. `BENCH_SINGLE_ONLY=1` runs only the 1-key loops
 * (no Firestore emulator); their CPU ms per call (the process's user +
 * system time, fs threads included) is steadier than latency on a busy
 * machine.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDiskStore, createFirestoreStore, createSessionStore } from "../src/app/composition/session-stores.ts";
import type { DiskSessionStore } from "../src/adapters/session-store/disk/disk.session-store.ts";
import type { SessionStore, StoredValue } from "../src/domain/ports/session-store.port.ts";
import { startFirestoreEmulator } from "../test/support/firestore-emulator.ts";
import { printRuntime } from "./support/stats.ts";

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 60);
const WARMUP = 5;

function batch(round: number): Map<string, StoredValue> {
  const entries = new Map<string, StoredValue>();
  for (let i = 0; i < 20; i++) {
    entries.set(`pre-key-${round * 30 + i}`, {
      keyPair: { public: randomBytes(33), private: randomBytes(32) },
      keyId: round * 30 + i,
    });
  }
  for (let i = 0; i < 10; i++) {
    entries.set(`session-40712345${i}.0`, {
      _sessions: { [randomBytes(33).toString("base64")]: { chain: randomBytes(1500), index: round } },
    } as StoredValue);
  }
  return entries;
}

async function measure(
  name: string,
  store: SessionStore,
  after?: () => Promise<void>,
): Promise<{ name: string; p50: number; p99: number; mean: number }> {
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS + WARMUP; round++) {
    const entries = batch(round);
    const start = process.hrtime.bigint();
    await store.setMany("bench", entries);
    if (after !== undefined) await after();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (round >= WARMUP) samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { name, p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

const SINGLE_ROUNDS = Number(process.env["BENCH_SINGLE_ROUNDS"] ?? 400);

/** One Signal session record, about the size Baileys writes per message. */
function sessionRecord(i: number): Map<string, StoredValue> {
  return new Map<string, StoredValue>([
    ["session-407123456.0", { _sessions: { current: { chain: randomBytes(1500), index: i } } } as StoredValue],
  ]);
}

const PRELOADED_KEYS = 850;

/** Fills a session the way a linked session looks after its prekey upload. */
async function preload(store: SessionStore, session: string): Promise<void> {
  const entries = new Map<string, StoredValue>();
  for (let i = 0; i < PRELOADED_KEYS; i++)
    entries.set(`pre-key-${i}`, { keyPair: { public: randomBytes(33), private: randomBytes(32) }, keyId: i });
  await store.setMany(session, entries);
}

interface SingleResult {
  name: string;
  p50: number;
  p99: number;
  mean: number;
  perSecond: number;
  cpuMs: number;
}

async function measureSingle(store: DiskSessionStore, sessions: number, preloaded = false): Promise<SingleResult> {
  const samples: number[] = [];
  if (preloaded) for (let s = 0; s < sessions; s++) await preload(store, `bench-1key-${s}`);
  // The preload's own files are not the loop's cost.
  await store.checkpoint();
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: sessions }, async (_, s) => {
      for (let i = 0; i < SINGLE_ROUNDS + WARMUP; i++) {
        const start = process.hrtime.bigint();
        await store.setMany(`bench-1key-${s}`, sessionRecord(i));
        if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  const cpu = process.cpuUsage(cpuBefore);
  const calls = sessions * (SINGLE_ROUNDS + WARMUP);
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  const name = `${sessions === 1 ? "disk, 1 session" : `disk, ${sessions} sessions at once`}${preloaded ? `, ${PRELOADED_KEYS} keys in each` : ""}`;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    name,
    p50: at(0.5),
    p99: at(0.99),
    mean,
    perSecond: calls / seconds,
    cpuMs: (cpu.user + cpu.system) / 1000 / calls,
  };
}

printRuntime();
{
  const singles = [];
  for (const [sessions, preloaded] of [
    [1, false],
    [8, false],
    [1, true],
  ] as const) {
    const dir = await mkdtemp(join(tmpdir(), "session-bench-1key-"));
    const disk = createDiskStore({ dataDir: dir });
    singles.push(await measureSingle(disk, sessions, preloaded));
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    `\nsession store: sequential setMany of 1 key (the per-message cost), ${SINGLE_ROUNDS} calls per session\n`,
  );
  console.log("| store | p50 ms | p99 ms | mean ms | setMany/s | CPU ms/call |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const r of singles)
    console.log(
      `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.mean.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${r.cpuMs.toFixed(3)} |`,
    );
}
if (process.env["BENCH_SINGLE_ONLY"] === "1") process.exit(0);

const emulator = await startFirestoreEmulator("demo-bench");
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), "session-bench-"));
  dirs.push(dir);
  return dir;
};
try {
  const results = [];
  const disk = createDiskStore({ dataDir: await tempDir() });
  results.push(await measure("disk", disk));
  await disk.close();

  const firestore = await createFirestoreStore({
    projectId: emulator.projectId,
    emulatorHost: emulator.host,
    collection: "bench_firestore",
  });
  results.push(await measure("firestore (emulator)", firestore));
  await firestore.close();

  const tiered = await createSessionStore({
    dataDir: await tempDir(),
    mode: "full",
    firestoreProjectId: emulator.projectId,
    firestoreEmulatorHost: emulator.host,
    firestoreCollection: "bench_tiered",
  });
  results.push(await measure("tiered full (returns after disk)", tiered));
  results.push(await measure("tiered full (until in Firestore)", tiered, () => tiered.flush()));
  await tiered.close();

  console.log(`\nsession store: setMany of a 30-key batch, ${ROUNDS} rounds (${WARMUP} warm-up rounds dropped)\n`);
  console.log("| store | p50 ms | p99 ms | mean ms | p50 vs disk |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  const base = results[0]!.p50;
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.mean.toFixed(2)} | ${(r.p50 / base).toFixed(1)}x |`,
    );
} finally {
  await emulator.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}
