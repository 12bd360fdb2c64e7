// New logins beside open ones: a gateway process (src/main.ts, as `npm start`
// runs it) holds N idle open sessions, pre-linked on the simulator; then L
// new sessions are created through the API (POST /sessions) and linked at
// once by the simulated phones scanning their QR codes (POST /control/scan).
// Each new login makes, stores and uploads 812 prekeys. Measured: the
// gateway's event-loop delay (nodejs_eventloop_delay_* on GET /metrics, each
// scrape reads the window since the previous one) while idle, from the scans
// until all L are open, and from then until the process is quiet; the time
// until all L are open; how long GET /sessions took to answer meanwhile (what
// a client of the other sessions sees); memory per session.
//
//   npm run bench -- linking      (or npx tsx bench/linking.bench.ts)
//   BENCH_SESSIONS=50: the idle open sessions; BENCH_NEW_LOGINS=20: the logins linked at once
//   BENCH_CPU_PROF=DIR: the gateway writes a V8 CPU profile there when it stops
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSimProcess, type SimEndpoints } from "./baileys-raw.bench.ts";
import { startGateway, type GatewayProcess } from "./support/gateway-process.ts";
import {
  listSessions,
  LogWatch,
  pollUntil,
  stateCounts,
  waitAllOpen,
  waitSettled,
  withTimeout,
} from "./support/many-sessions.ts";
import { memoryBreakdown, memoryProbeEnv, type MemoryBreakdown } from "./support/memory-breakdown.ts";
import { ownChildren } from "./support/processes.ts";
import { benchPhone, mapConcurrent, seedSessions, simCall } from "./support/sim-control.ts";
import { fmtSummary, printRuntime, printTable, summarize, verdict } from "./support/stats.ts";
import { parsePrometheus, sampleValue } from "../test/support/prometheus-text.ts";

const idleN = Number(process.env.BENCH_SESSIONS ?? 50);
const newN = Number(process.env.BENCH_NEW_LOGINS ?? 20);
if (!Number.isInteger(idleN) || idleN < 0 || idleN > 9_999) throw new Error("BENCH_SESSIONS must be 0 to 9999");
if (!Number.isInteger(newN) || newN < 1 || newN > 999) throw new Error("BENCH_NEW_LOGINS must be 1 to 999");
/** The target of issue 20: the event loop's p99 delay while the new logins link. */
const TARGET_P99_MS = 100;
const limits = {
  seedMs: Math.max(60_000, idleN * 400),
  openMs: Math.max(120_000, idleN * 600),
  settleMs: Math.max(120_000, (idleN + newN) * 1_000),
  linkMs: Math.max(120_000, newN * 3_000),
};

interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
interface Result {
  idle?: LoopDelay;
  linking?: LoopDelay;
  afterOpen?: LoopDelay;
  allOpenMs?: number;
  settleMs?: number;
  /** Each GET /sessions poll during the linking window: answered after, ms. */
  pollMs: number[];
  memoryBefore?: MemoryBreakdown;
  memoryAfter?: MemoryBreakdown;
}
const result: Result = { pollMs: [] };
const logs = new LogWatch();
const dirs: string[] = [];
let sim: (SimEndpoints & { stop(): Promise<void> }) | undefined;
let gateway: GatewayProcess | undefined;
process.on("exit", () => {
  for (const pid of ownChildren()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
process.once("SIGINT", () => process.exit(130));
process.once("SIGTERM", () => process.exit(143));

/** Reads the event-loop delay of the window since the previous scrape (and starts a new window). */
async function loopDelay(gw: GatewayProcess): Promise<LoopDelay> {
  const { status, body } = await gw.call<string>("GET", "/metrics");
  if (status !== 200) throw new Error(`GET /metrics -> ${status}`);
  const samples = parsePrometheus(body);
  const ms = (name: string): number => {
    const value = sampleValue(samples, `nodejs_eventloop_delay_${name}_seconds`);
    if (value === undefined) throw new Error(`GET /metrics has no nodejs_eventloop_delay_${name}_seconds`);
    return value * 1000;
  };
  return { p50Ms: ms("p50"), p99Ms: ms("p99"), maxMs: ms("max") };
}

/** Creates the sessions through the API and waits for each one's first QR. */
async function createAndGetQrs(gw: GatewayProcess, ids: readonly string[]): Promise<string[]> {
  return mapConcurrent(ids, 4, async (id) => {
    const created = await gw.call("POST", "/sessions", { id });
    if (created.status !== 201 && created.status !== 200)
      throw new Error(`POST /sessions ${id} -> ${created.status}: ${JSON.stringify(created.body)}`);
    return pollUntil(
      async () => {
        const { status, body } = await gw.call<{ qr?: string }>("GET", `/sessions/${id}/qr`);
        return { value: status === 200 ? body.qr : undefined, progress: `GET /sessions/${id}/qr -> ${status}` };
      },
      `a QR for ${id}`,
      30_000,
      100,
    );
  });
}

async function run(): Promise<void> {
  sim = await withTimeout(startSimProcess(), 30_000, "the simulator to start");
  const dataDir = await mkdtemp(join(tmpdir(), "bench-linking-"));
  dirs.push(dataDir);
  const idleIds = Array.from({ length: idleN }, (_, i) => `idle${String(i + 1).padStart(4, "0")}`);
  await withTimeout(seedSessions(sim, dataDir, idleIds, 4), limits.seedMs, `${idleN} accounts linked`);
  const env = {
    MALLOC_ARENA_MAX: "2",
    WA_WEBSOCKET_URL: sim.ws,
    DATA_DIR: dataDir,
    DEFAULT_SESSION: "",
    MAX_SESSIONS: String(Math.max(idleN + newN, 100)),
    ...memoryProbeEnv(dataDir),
  };
  logs.phase = "start";
  gateway = await withTimeout(startGateway(env, { onLog: logs.onLine }), 60_000, "the gateway to listen");
  const bound = { timeoutMs: limits.openMs, pollMs: 250 };
  if (idleN > 0) await waitAllOpen(gateway, idleN, bound);
  // The idle sessions were new logins to this gateway too (prekeys): the linking starts once that is done.
  logs.phase = "settling";
  await waitSettled(gateway.pid, limits.settleMs);
  result.memoryBefore = await memoryBreakdown(gateway.pid, dataDir);
  logs.phase = "idle";
  await loopDelay(gateway);
  await sleep(5_000);
  result.idle = await loopDelay(gateway);

  logs.phase = "linking";
  const newIds = Array.from({ length: newN }, (_, i) => `new${String(i + 1).padStart(3, "0")}`);
  const qrs = await createAndGetQrs(gateway, newIds);
  await loopDelay(gateway);
  const start = performance.now();
  await Promise.all(qrs.map((qr) => simCall(sim!, "POST", "/control/scan", { qr, phone: benchPhone() })));
  const target = new Set(newIds);
  result.allOpenMs = await pollUntil(
    async () => {
      const asked = performance.now();
      const items = await listSessions(gateway!);
      result.pollMs.push(performance.now() - asked);
      const fresh = items.filter((s) => target.has(s.id));
      const open = fresh.filter((s) => s.state === "open").length;
      return {
        value: open === newN ? performance.now() - start : undefined,
        progress: `${open}/${newN} new sessions open (${stateCounts(fresh)})`,
      };
    },
    `all ${newN} new sessions open`,
    limits.linkMs,
    100,
  );
  result.linking = await loopDelay(gateway);
  logs.phase = "after open";
  result.settleMs = await waitSettled(gateway.pid, limits.settleMs);
  result.afterOpen = await loopDelay(gateway);
  const all = await listSessions(gateway);
  const notOpen = all.filter((s) => s.state !== "open");
  if (notOpen.length > 0) throw new Error(`sessions not open after the linking: ${stateCounts(notOpen)}`);
  result.memoryAfter = await memoryBreakdown(gateway.pid, dataDir);
  logs.phase = "stop";
  await gateway.stop(60_000);
  gateway = undefined;
}

const f = (v: number | undefined, digits = 0): string => (v === undefined ? "-" : v.toFixed(digits));
const delay = (d: LoopDelay | undefined): string => (d ? `${f(d.p50Ms)} / ${f(d.p99Ms)} / ${f(d.maxMs)}` : "- / - / -");

function report(): void {
  console.log(`\n${newN} new logins linked at once beside ${idleN} idle open sessions, one gateway process`);
  const p99 = Math.max(result.linking?.p99Ms ?? Number.NaN, result.afterOpen?.p99Ms ?? Number.NaN);
  const heap = (m: MemoryBreakdown | undefined): number | undefined => m?.after?.heapUsed ?? m?.before.heapUsed;
  const rss = (m: MemoryBreakdown | undefined): number | undefined => m?.before.rss;
  const perSession = (pick: (m: MemoryBreakdown | undefined) => number | undefined): string => {
    const [a, b] = [pick(result.memoryBefore), pick(result.memoryAfter)];
    return a === undefined || b === undefined ? "-" : (((b - a) * 1024) / newN).toFixed(0);
  };
  printTable(
    ["measure", "value"],
    [
      ["event-loop delay idle (5 s), ms p50 / p99 / max", delay(result.idle)],
      ["event-loop delay, scans -> all new open, ms p50 / p99 / max", delay(result.linking)],
      ["event-loop delay, all open -> quiet (< 0.1 cores), ms p50 / p99 / max", delay(result.afterOpen)],
      [`p99 of either linking window <= ${TARGET_P99_MS} ms`, `${f(p99)} ms, ${verdict(p99 <= TARGET_P99_MS)}`],
      [`scans -> all ${newN} new open, s`, f((result.allOpenMs ?? Number.NaN) / 1000, 2)],
      ["all open -> quiet, s", f((result.settleMs ?? Number.NaN) / 1000, 2)],
      [
        "GET /sessions answered after, ms: min / median / p95 / max",
        result.pollMs.length ? fmtSummary(summarize(result.pollMs), 0) : "-",
      ],
      ["memory idle, before -> after a full collection, MB", result.memoryBefore?.summary ?? "-"],
      ["memory after the new logins, MB", result.memoryAfter?.summary ?? "-"],
      ["heap used after a full collection, per new session, KB", perSession(heap)],
      ["RSS per new session, KB", perSession(rss)],
      ["gateway log lines: warnings / errors", `${logs.warnings} / ${logs.errors}`],
    ],
  );
  for (const [message, count] of [...logs.messages].slice(0, 10)) console.log(`  ${count} x ${message}`);
}

printRuntime();
let failure: unknown;
try {
  await run();
} catch (error) {
  failure = error;
} finally {
  await gateway?.stop();
  await sim?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  dirs.length = 0;
}
report();
if (failure !== undefined) {
  console.error(`\nlinking FAILED: ${failure instanceof Error ? failure.message : String(failure)}`);
  if (failure instanceof Error && failure.stack) console.error(failure.stack.split("\n").slice(1, 6).join("\n"));
}
process.exit(failure === undefined ? 0 : 1);
