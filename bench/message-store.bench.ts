// Micro-benchmark of the SQLite MessageStore (not a test: it prints figures).
//
//   npx tsx bench/message-store.bench.ts [directory]
//
// Enqueue throughput with group commit against one transaction per enqueue,
// under synchronous=FULL and NORMAL, with CONCURRENCY callers each awaiting
// its enqueue before issuing the next (as concurrent HTTP requests do), then
// claim latency over a 10,000-message backlog. Runs in about 20 s. The
// database goes in a temporary directory (or the one given, to measure
// another disk), removed afterwards. Compare ratios within one run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { SqliteMessageStore } from "../src/adapters/message-store/sqlite/sqlite.message-store.ts";
import type { NewOutboundMessage } from "../src/domain/message.ts";
import { printRuntime } from "./support/stats.ts";

const CONCURRENCY = 64;
const SECONDS_PER_SCENARIO = 3;
const ROUTE = { provider: "baileys", session: "bench" };

const root = mkdtempSync(join(process.argv[2] ?? tmpdir(), "gateway-store-bench-"));
let sequence = 0;

function message(to: string, at = new Date()): NewOutboundMessage {
  sequence += 1;
  return {
    id: `bench-${sequence}`,
    ...ROUTE,
    channel: "whatsapp",
    to,
    from: null,
    text: "Your verification code is 123456",
    media: [],
    metadata: { campaign: "bench", n: sequence },
    idempotency: { key: `key-${sequence}`, fingerprint: "fingerprint" },
    at,
  };
}

interface Result {
  readonly name: string;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

async function enqueueScenario(name: string, synchronous: "full" | "normal", maxBatchSize: number): Promise<Result> {
  const store = new SqliteMessageStore({
    path: join(root, `${name.replace(/\W+/g, "-")}.db`),
    synchronous,
    maxBatchSize,
  });
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS_PER_SCENARIO * 1000;
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await store.enqueue(message(`whatsapp:+4070${String(w).padStart(7, "0")}`));
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  await store.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function claimScenario(): Promise<string[]> {
  const store = new SqliteMessageStore({ path: join(root, "claim.db"), synchronous: "normal" });
  const at = new Date(0);
  // 10,000 waiting: 5,000 behind one recipient, one each for 5,000 others.
  const fill: Promise<unknown>[] = [];
  for (let i = 0; i < 5_000; i++) fill.push(store.enqueue(message("whatsapp:+40711111111", at)));
  for (let i = 0; i < 5_000; i++) fill.push(store.enqueue(message(`whatsapp:+4072${String(i).padStart(7, "0")}`, at)));
  await Promise.all(fill);

  const lines: string[] = [];
  const time = async (label: string, rounds: number, run: (round: number) => Promise<number>): Promise<void> => {
    let claimed = 0;
    const t0 = performance.now();
    for (let round = 0; round < rounds; round++) claimed += await run(round);
    const ms = (performance.now() - t0) / rounds;
    lines.push(`${label.padEnd(58)} ${ms.toFixed(3).padStart(8)} ms/claim  (${claimed} claimed in ${rounds})`);
  };
  // Each round claims 10 and leases them long enough to stay out of later rounds.
  await time(
    "claim 10 of 10,000 waiting (fresh heads)",
    200,
    async (round) => (await store.claim(ROUTE, 10, 3_600_000, new Date(1 + round))).length,
  );
  // Every head is now in flight: nothing is claimable, the backlog must not be scanned.
  await store.claim(ROUTE, 10_000, 3_600_000, new Date(1_000));
  await time(
    "claim when all 5,001 heads are in flight (nothing due)",
    200,
    async () => (await store.claim(ROUTE, 10, 3_600_000, new Date(2_000))).length,
  );
  await store.close();
  return lines;
}

async function main(): Promise<void> {
  printRuntime();
  console.log(
    `SQLite MessageStore bench: ${CONCURRENCY} concurrent callers, ${SECONDS_PER_SCENARIO} s per scenario, dir ${root}`,
  );
  const results: Result[] = [];
  for (const synchronous of ["full", "normal"] as const) {
    results.push(await enqueueScenario(`sync=${synchronous}, one tx per enqueue`, synchronous, 1));
    results.push(await enqueueScenario(`sync=${synchronous}, group commit`, synchronous, 1000));
  }
  console.log("");
  console.log(`${"scenario".padEnd(36)} ${"enqueue/s".padStart(10)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(36)} ${r.perSecond.toFixed(0).padStart(10)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}`,
    );
  }
  const rate = (name: string): number => results.find((r) => r.name === name)?.perSecond ?? Number.NaN;
  console.log("");
  for (const synchronous of ["full", "normal"]) {
    const ratio = rate(`sync=${synchronous}, group commit`) / rate(`sync=${synchronous}, one tx per enqueue`);
    console.log(`group commit / one tx per enqueue, sync=${synchronous}: ${ratio.toFixed(1)}x`);
  }
  console.log(
    `group commit full / normal: ${(rate("sync=full, group commit") / rate("sync=normal, group commit")).toFixed(2)}`,
  );
  console.log("");
  for (const line of await claimScenario()) console.log(line);
}

try {
  await main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
