// `npm run bench`: every benchmark, one after the other, each as its own
// process so one's memory and timers cannot colour the next. Figures and
// ratios are printed by each; compare ratios measured in the same run.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { printRuntime } from "./support/stats.ts";

const all = [
  ["accept", "http-accept.bench.ts", "POST /messages accept throughput beside a bare node:http handler"],
  ["message-store", "message-store.bench.ts", "SQLite queue: group commit vs one transaction per message"],
  [
    "session-store",
    "session-store.bench.ts",
    "session stores: the old disk store beside SQLite (30-key and 1-key setMany, 850 keys, 1,000 sessions cold read), Firestore, tiered",
  ],
  ["baileys-raw", "baileys-raw.bench.ts", "raw Baileys on the simulator: reconnect time and send rate (the ceilings)"],
  [
    "whatsapp-gateway",
    "whatsapp-gateway.bench.ts",
    "gateway on the simulator: recovery, delivery throughput, 10 sessions, drain (beside raw Baileys)",
  ],
  [
    "cold-start",
    "cold-start.bench.ts",
    "cold start to session open: disk store and Firestore full on an empty data dir",
  ],
  [
    "many-sessions",
    "many-sessions.bench.ts",
    "BENCH_SESSIONS (200) sessions in one gateway beside raw Baileys: restart, idle, drop all, a message each",
  ],
  [
    "linking",
    "linking.bench.ts",
    "BENCH_NEW_LOGINS (20) new logins linked at once beside BENCH_SESSIONS (50) open ones: event-loop delay, time to open",
  ],
  [
    "media",
    "media.bench.ts",
    "a 16 MiB video and a 50 MiB document through the gateway beside raw Baileys: time to ack, RSS growth",
  ],
  [
    "firestore-queue",
    "firestore-queue.bench.ts",
    "Firestore queue and webhook outbox (emulator): reads, writes and deletes per message, cost per 1,000",
  ],
] as const;

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const selected = only.length > 0 ? all.filter(([id]) => only.includes(id)) : all;
if (only.length > 0 && selected.length !== only.length) {
  console.error(`unknown benchmark in ${only.join(", ")}; known: ${all.map(([id]) => id).join(", ")}`);
  process.exit(2);
}
let failed = 0;
for (const [id, file, what] of selected) {
  console.log(`\n##### ${id}: ${what}`);
  printRuntime();
  const run = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, file)], { stdio: "inherit" });
  if (run.status !== 0) {
    failed++;
    console.error(`benchmark ${id} failed (exit ${run.status ?? run.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
