// Many sessions in one gateway: N pre-linked sessions restored from the store
// by one gateway process (src/main.ts, as `npm start` runs it), beside raw
// Baileys holding N sockets in one process, on the same simulator (its own
// process) in the same run. Each session is its own simulated account and
// sends to its own simulated contact.
//
//   BENCH_SESSIONS=200 npx tsx bench/many-sessions.bench.ts   (or npm run bench -- many-sessions)
//   BENCH_IDLE_S=20: the idle window of (b)
//
// Order: seed 2N accounts (N into the gateway's data dir, N for raw Baileys);
// raw Baileys first, then the gateway, each with the simulator to itself (the
// drop closes every socket the simulator holds). Each side starts once on the
// fresh logins (every login uploads its prekeys), is left to settle (the
// gateway then writes the keys of those logins for seconds), stops, and is
// timed on the second start: (a) a restart from the store. Then (b) idle RSS and CPU
// (gateway), (c) every socket dropped at once until all are open again, (d)
// one message from each session to its contact, twice (the first to each
// contact, then steady state), (e) RSS after the rounds. On 2 shared cores
// absolute figures wander: the ratios, taken in one run, are the result.
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSimProcess, type SimEndpoints } from "./baileys-raw.bench.ts";
import { startGateway, type GatewayProcess } from "./support/gateway-process.ts";
import {
  dropAndReopenGateway,
  dropAndReopenRaw,
  gatewayRound,
  LogWatch,
  rawRound,
  sampleIdle,
  waitAllOpen,
  waitSettled,
  withTimeout,
  type GatewaySession,
  type IdleResult,
  type ReopenResult,
  type RoundResult,
} from "./support/many-sessions.ts";
import { ownChildren, rssMb, type ExitStatus } from "./support/processes.ts";
import { startRawSessions, writeRawAccounts, type RawSessionsProcess } from "./support/raw-sessions-process.ts";
import { benchPhone, linkAccounts, seedSessions, simCall } from "./support/sim-control.ts";
import { fmtSummary, printRuntime, printTable } from "./support/stats.ts";
import { memoryBreakdown, memoryProbeEnv, type MemoryBreakdown } from "./support/memory-breakdown.ts";

const n = Number(process.env.BENCH_SESSIONS ?? 200);
const idleS = Number(process.env.BENCH_IDLE_S ?? 20);
if (!Number.isInteger(n) || n < 1 || n > 9_999) throw new Error("BENCH_SESSIONS must be an integer from 1 to 9999");
if (!(idleS > 0)) throw new Error("BENCH_IDLE_S must be a positive number of seconds");
/** Lists of N items are read every 50 ms, less often from 200 sessions up (250 ms at 1,000). */
const pollMs = Math.round(Math.max(50, Math.min(250, n / 4)));
/**
 * Every wait is bounded; the bounds grow with N (120 s to open 1,000 sessions
 * on a restart), with room for a loaded machine: at 50 sessions on 2 busy
 * cores, linking took ~90 ms per account, a first start ~300 ms per session
 * (each login makes and uploads 812 prekeys), its settling ~320 ms.
 */
const limits = {
  seedMs: Math.max(60_000, 2 * n * 200),
  firstOpenMs: Math.max(120_000, n * 400),
  openMs: Math.max(60_000, n * 120),
  reopen: { timeoutMs: Math.max(60_000, n * 120), pollMs },
  round: { timeoutMs: Math.max(60_000, n * 120), pollMs },
  /** After the first start: each new login leaves work behind (its prekeys to write), seconds of it per 10 sessions. */
  settleMs: Math.max(120_000, n * 600),
  /** A stop gets this long after SIGTERM before SIGKILL. */
  stopGraceMs: 60_000,
};
/** As `npm start` runs the gateway (glibc arenas capped); raw Baileys gets the same. */
const PROCESS_ENV = { MALLOC_ARENA_MAX: "2" };
/** A contact per session, fictional numbers apart from the accounts' (benchPhone's 1556...). */
const contact = (side: "gateway" | "raw", i: number): string =>
  `${side === "gateway" ? 1557 : 1558}${String(process.pid % 100_000).padStart(5, "0")}${String(i).padStart(4, "0")}`;

interface Side {
  firstOpenMs?: number;
  /** After the first start had all open: until the process used under 0.1 cores over a second. */
  firstSettleMs?: number;
  openMs?: number;
  reopen?: ReopenResult;
  rounds: RoundResult[];
  rssAfterMb?: number;
  /** Where the gateway's memory is (JS heap before and after a full collection, V8's spaces). */
  memoryIdle?: MemoryBreakdown;
  memoryAfter?: MemoryBreakdown;
}
const gatewaySide: Side = { rounds: [] };
const rawSide: Side = { rounds: [] };
let idle: IdleResult | undefined;
let seedMs: number | undefined;
const logs = new LogWatch();
/** The gateway's stops: SIGTERM -> exit, and how it ended. */
const stops: Array<{ what: string; ms: number; status: ExitStatus }> = [];
/** Baileys' warnings and errors in the raw process ("level: msg" -> count), beside the gateway's. */
let rawLogs: Record<string, number> = {};
/** Why the raw Baileys side stopped before its last step, if it did. */
let rawFailure: string | undefined;
/** Raw sends that failed once and went on the second try. */
let rawSendRetries = 0;

const dirs: string[] = [];
let sim: (SimEndpoints & { stop(): Promise<void> }) | undefined;
let gateway: GatewayProcess | undefined;
let raw: RawSessionsProcess | undefined;
// Whatever way this process ends, it leaves no child process and no temp dir behind.
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
for (const [signal, number] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
] as const)
  process.once(signal, () => process.exit(128 + number));

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

async function settledRss(pid: number): Promise<number> {
  await sleep(1_000);
  return rssMb(pid);
}

async function runRaw(endpoints: SimEndpoints, accountsFile: string, phones: readonly string[]): Promise<void> {
  const first = await startRawSessions(endpoints.ws, accountsFile, PROCESS_ENV, limits.firstOpenMs);
  raw = first.proc;
  rawSide.firstOpenMs = first.openMs;
  rawSide.firstSettleMs = await waitSettled(raw.pid, limits.settleMs);
  await raw.stop(true);
  const restarted = await startRawSessions(endpoints.ws, accountsFile, PROCESS_ENV, limits.openMs);
  raw = restarted.proc;
  rawSide.openMs = restarted.openMs;
  rawSide.reopen = await dropAndReopenRaw(raw, endpoints, limits.reopen.timeoutMs);
  for (const label of ["first", "again"])
    rawSide.rounds.push(await rawRound(raw, endpoints, phones, `raw ${label}`, limits.round));
  rawSide.rssAfterMb = await settledRss(raw.pid);
  raw.command({ cmd: "status" });
  const rawStatus = await raw.expect("status", 10_000);
  rawLogs = rawStatus.logs as Record<string, number>;
  rawSendRetries = Number(rawStatus.sendRetries ?? 0);
  await raw.stop();
  raw = undefined;
}

/** Starts the gateway on the data dir; resolves once every session is open, with the time from spawn. */
async function startAndOpen(env: Record<string, string>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  // Timed out, the process is not ours to stop yet: the exit handler kills what is left.
  gateway = await withTimeout(startGateway(env, { onLog: logs.onLine }), timeoutMs, "the gateway to listen");
  const items = await waitAllOpen(gateway, n, { timeoutMs: timeoutMs - (performance.now() - start), pollMs });
  if (items.length !== n) throw new Error(`the gateway runs ${items.length} sessions, expected ${n}`);
  return performance.now() - start;
}

async function runGateway(endpoints: SimEndpoints, dataDir: string, sessions: readonly GatewaySession[]) {
  const env = {
    ...PROCESS_ENV,
    WA_WEBSOCKET_URL: endpoints.ws,
    DATA_DIR: dataDir,
    DEFAULT_SESSION: "",
    MAX_SESSIONS: String(Math.max(n, 100)),
    ...memoryProbeEnv(dataDir),
  };
  logs.phase = "first start";
  gatewaySide.firstOpenMs = await startAndOpen(env, limits.firstOpenMs);
  logs.phase = "first start, settling";
  gatewaySide.firstSettleMs = await waitSettled(gateway!.pid, limits.settleMs);
  logs.phase = "first stop";
  await stopGateway("first stop, settled");
  logs.phase = "(a) restart";
  gatewaySide.openMs = await startAndOpen(env, limits.openMs);
  logs.phase = "(b) idle";
  idle = await sampleIdle(gateway!.pid, idleS);
  gatewaySide.memoryIdle = await memoryBreakdown(gateway!.pid, dataDir);
  logs.phase = "(c) drop";
  gatewaySide.reopen = await dropAndReopenGateway(gateway!, endpoints, n, limits.reopen);
  for (const label of ["first", "again"]) {
    logs.phase = `(d) round ${label}`;
    gatewaySide.rounds.push(await gatewayRound(gateway!, endpoints, sessions, `gateway ${label}`, limits.round));
  }
  gatewaySide.rssAfterMb = await settledRss(gateway!.pid);
  gatewaySide.memoryAfter = await memoryBreakdown(gateway!.pid, dataDir);
  logs.phase = "last stop";
  await stopGateway("last stop");
}

async function stopGateway(what: string): Promise<void> {
  const start = performance.now();
  const status = await gateway!.stop(limits.stopGraceMs);
  gateway = undefined;
  stops.push({ what, ms: performance.now() - start, status });
}

const s = (ms: number | undefined): string => (ms === undefined ? "-" : (ms / 1000).toFixed(2));
const fixed = (v: number | undefined, digits: number): string => (v === undefined ? "-" : v.toFixed(digits));
const ratio = (g: number | undefined, r: number | undefined): string =>
  g === undefined || r === undefined ? "-" : (g / r).toFixed(2);

function report(): void {
  const row = (what: string, g: number | undefined, r: number | undefined, fmt: (v?: number) => string) => [
    what,
    fmt(g),
    fmt(r),
    ratio(g, r),
  ];
  const [g1, g2] = gatewaySide.rounds;
  const [r1, r2] = rawSide.rounds;
  console.log(
    `\nN=${n} sessions: gateway process beside raw Baileys (N sockets in one process), one simulator;` +
      ` both open at most ${process.env.RAW_CONNECTS_PER_SECOND ?? 50} sockets a second after a burst of as many` +
      ` (the gateway's WA_CONNECTS_PER_SECOND default; raw: RAW_CONNECTS_PER_SECOND)`,
  );
  printTable(
    ["measure", "gateway", "raw Baileys", "gateway / raw"],
    [
      row(`open all, first start on fresh logins (prekey uploads), s`, gatewaySide.firstOpenMs, rawSide.firstOpenMs, s),
      row(
        `first start: busy after all open (to < 0.1 cores over 1 s), s`,
        gatewaySide.firstSettleMs,
        rawSide.firstSettleMs,
        s,
      ),
      row(`(a) open all, restart from the store: spawn -> all open, s`, gatewaySide.openMs, rawSide.openMs, s),
      row(`(c) every socket dropped at once -> all open again, s`, gatewaySide.reopen?.ms, rawSide.reopen?.ms, s),
      row(`(d) round 1, first message to each contact: msg/s`, g1?.perSecond, r1?.perSecond, (v) => fixed(v, 0)),
      row(`(d) round 1: CPU ms per message`, g1?.cpuMsPerMessage, r1?.cpuMsPerMessage, (v) => fixed(v, 2)),
      row(`(d) round 2, steady state: msg/s`, g2?.perSecond, r2?.perSecond, (v) => fixed(v, 0)),
      row(`(d) round 2: CPU ms per message`, g2?.cpuMsPerMessage, r2?.cpuMsPerMessage, (v) => fixed(v, 2)),
      row(`(e) RSS after the rounds, MB`, gatewaySide.rssAfterMb, rawSide.rssAfterMb, (v) => fixed(v, 1)),
    ],
  );
  console.log(
    `msg/s: first POST (raw: first send) -> the simulator has all N; CPU: user + system of the sender's process from /proc,` +
      `\nuntil it saw all N delivered (gateway: /metrics; includes its HTTP accept path)`,
  );
  console.log(`\nthe gateway alone`);
  const reopen = gatewaySide.reopen;
  printTable(
    ["measure", "value"],
    [
      [`(b) idle ${idleS} s: RSS MB, min / median / p95 / max`, idle ? fmtSummary(idle.rssMb) : "-"],
      [`(b) idle ${idleS} s: CPU, cores`, fixed(idle?.cores, 3)],
      ["(c) sockets dropped: gateway / raw", `${reopen?.affected ?? "-"} / ${rawSide.reopen?.affected ?? "-"}`],
      [
        "(c) reconnect attempts: gateway / raw (N: each came back on its first try)",
        `${reopen?.attempts ?? "-"} / ${rawSide.reopen?.attempts ?? "-"}`,
      ],
      ["(c) recoveries the gateway's sessions counted", String(reopen?.recoveries ?? "-")],
      ["(c) states 1 s after all open again", reopen?.statesAfter ?? "-"],
      ["(c) sessions in needs_attention or logged_out", String(reopen?.givenUp ?? "-")],
      ...gatewaySide.rounds.map((r, i) => [
        `(d) round ${i + 1}: all POSTs accepted after`,
        `${fixed(r.acceptMs, 0)} ms`,
      ]),
      ...stops.map(({ what, ms, status }) => [
        `gateway ${what}: SIGTERM -> exit`,
        `${s(ms)} s, ${status.signal ?? `exit code ${status.code}`}`,
      ]),
      ["(b) memory idle, before -> after a full collection, MB", gatewaySide.memoryIdle?.summary ?? "-"],
      ["(e) memory after the rounds, before -> after a full collection, MB", gatewaySide.memoryAfter?.summary ?? "-"],
      ["seeding 2N linked accounts on the simulator", `${s(seedMs)} s`],
      ["gateway log lines: warnings / errors", `${logs.warnings} / ${logs.errors}`],
    ],
  );
  for (const [message, count] of [...logs.messages].slice(0, 10)) {
    console.log(`  ${count} x ${message}`);
    if (/\b(error|failed)\b/.test(message)) console.log(`    first: ${logs.firstLines.get(message)!.slice(0, 400)}`);
  }
  console.log(`raw Baileys sends that failed once and were sent again: ${rawSendRetries}`);
  if (rawFailure) console.log(`raw Baileys FAILED (its missing figures are '-'): ${rawFailure}`);
  const rawLines = Object.entries(rawLogs);
  console.log(`raw process (second start) log lines: ${rawLines.length === 0 ? "none" : "by message"}`);
  for (const [message, count] of rawLines.slice(0, 10)) console.log(`  ${count} x ${message.slice(0, 300)}`);
}

/** Problems a correct run cannot have: lost or duplicated messages, sessions given up. */
function problems(): string[] {
  const found: string[] = [];
  for (const [side, name] of [
    [gatewaySide, "gateway"],
    [rawSide, "raw"],
  ] as const) {
    side.rounds.forEach((r, i) => {
      if (r.received !== n || r.duplicates > 0)
        found.push(
          `${name} round ${i + 1}: the simulator got ${r.received} messages (${r.duplicates} duplicates) of ${n}`,
        );
    });
  }
  if (gatewaySide.reopen?.givenUp) found.push(`${gatewaySide.reopen.givenUp} sessions gave up after the drop`);
  return found;
}

printRuntime();
console.log(`many sessions: N=${n}, idle window ${idleS} s, lists polled every ${pollMs} ms`);
let failure: unknown;
try {
  sim = await withTimeout(startSimProcess(), 30_000, "the simulator to start");
  // Delivery receipts only: the end point of a round is each sender seeing its message delivered.
  await simCall(sim, "POST", "/control/receipts", { delivery: true, read: false, delayMs: 0 });
  const gatewayDir = await tempDir("bench-many-sessions-gateway-");
  const rawDir = await tempDir("bench-many-sessions-raw-");
  const ids = Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(4, "0")}`);
  const seedStart = performance.now();
  const seeded = withTimeout(
    (async () => {
      const phones = await seedSessions(sim!, gatewayDir, ids, 4);
      const rawAccounts = await linkAccounts(
        sim!,
        ids.map(() => benchPhone()),
        4,
      );
      return { phones, rawAccounts };
    })(),
    limits.seedMs,
    `${2 * n} accounts linked on the simulator`,
  );
  const { phones, rawAccounts } = await seeded;
  seedMs = performance.now() - seedStart;
  const accountsFile = join(rawDir, "accounts.json");
  await writeRawAccounts(
    accountsFile,
    rawAccounts.map((a, i) => ({ phone: a.phone, contact: contact("raw", i), creds: a.creds })),
  );
  // Raw Baileys failing (1,000 sockets in one process can) is a result, not the end of the run.
  await runRaw(
    sim,
    accountsFile,
    rawAccounts.map((a) => a.phone),
  ).catch((error: unknown) => {
    rawFailure = error instanceof Error ? error.message : String(error);
    raw?.kill();
    raw = undefined;
  });
  await runGateway(
    sim,
    gatewayDir,
    ids.map((id, i) => ({ id, phone: phones[i]!, contact: contact("gateway", i) })),
  );
} catch (error) {
  failure = error;
  const ended = gateway?.exitStatus();
  if (ended)
    failure = new Error(`the gateway process ended (${ended.signal ?? `exit code ${ended.code}`}): ${String(error)}`);
} finally {
  raw?.kill();
  await gateway?.stop();
  await sim?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  dirs.length = 0;
}
report();
const found = problems();
if (failure !== undefined)
  console.error(`\nmany-sessions FAILED: ${failure instanceof Error ? failure.message : String(failure)}`);
// fetch() says only "fetch failed"; the reason (refused, reset, timed out) is its cause.
if (failure instanceof Error && failure.cause) console.error(`  cause: ${String(failure.cause)}`);
if (failure instanceof Error && failure.stack) console.error(failure.stack.split("\n").slice(1, 6).join("\n"));
for (const problem of found) console.error(`many-sessions FAILED: ${problem}`);
process.exit(failure === undefined && found.length === 0 ? 0 : 1);
