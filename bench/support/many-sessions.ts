// The measurements of bench/many-sessions.bench.ts: N sessions of one gateway
// process, or N raw Baileys sockets of one process, against one simulator.
// Every wait is bounded and, when it times out, says how far it got.
import { setTimeout as sleep } from "node:timers/promises";
import type { SimEndpoints } from "../baileys-raw.bench.ts";
import { postMessages, type GatewayProcess, type SessionView } from "./gateway-process.ts";
import { cpuMs, rssMb } from "./processes.ts";
import type { RawSessionsProcess } from "./raw-sessions-process.ts";
import { allAccountCounters, dropAllConnections } from "./sim-control.ts";
import { summarize, type Summary } from "./stats.ts";

/**
 * How long a wait may last, and how often it reads the lists it waits on
 * (GET /sessions, the simulator's counters): each read costs the process
 * being measured as much more as the list is long.
 */
export interface Bound {
  timeoutMs: number;
  pollMs: number;
}

/** Polls `probe` until it gives a value; after `timeoutMs` throws with the last `progress` it reported. */
export async function pollUntil<T>(
  probe: () => Promise<{ value: T | undefined; progress: string }>,
  what: string,
  timeoutMs: number,
  pollMs: number,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { value, progress } = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; reached: ${progress}`);
    await sleep(pollMs);
  }
}

export interface SessionItem extends SessionView {
  id: string;
  /** Every attempt to connect again after a close, failed ones too. */
  reconnectAttempts: number;
}

export async function listSessions(gw: GatewayProcess): Promise<SessionItem[]> {
  const { status, body } = await gw.call<{ items: SessionItem[] }>("GET", "/sessions");
  if (status !== 200) throw new Error(`GET /sessions -> ${status}`);
  return body.items;
}

/** "open 48, connecting 2": sessions per state. */
export function stateCounts(items: readonly SessionItem[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.state, (counts.get(item.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => `${state} ${count}`).join(", ") || "no sessions";
}

/**
 * Polls GET /sessions until `n` sessions are open; with `reconnectsBefore`,
 * each must also have reconnected since those counts were read.
 */
export function waitAllOpen(
  gw: GatewayProcess,
  n: number,
  bound: Bound,
  reconnectsBefore?: ReadonlyMap<string, number>,
): Promise<SessionItem[]> {
  const done = (s: SessionItem): boolean =>
    s.state === "open" && (!reconnectsBefore || s.reconnects > (reconnectsBefore.get(s.id) ?? Infinity));
  return pollUntil(
    async () => {
      const items = await listSessions(gw);
      const ready = items.filter(done).length;
      return {
        value: ready >= n ? items : undefined,
        progress: `${ready}/${n} sessions ${reconnectsBefore ? "reopened" : "open"} (${stateCounts(items)})`,
      };
    },
    `all ${n} sessions ${reconnectsBefore ? "open again" : "open"}`,
    bound.timeoutMs,
    bound.pollMs,
  );
}

export interface IdleResult {
  rssMb: Summary;
  /** CPU time over wall time: 1.0 is one core busy. */
  cores: number;
}

/** RSS every `everyMs` and CPU over `seconds` of a process left alone. */
export async function sampleIdle(pid: number, seconds: number, everyMs = 500): Promise<IdleResult> {
  const rss: number[] = [];
  const cpu0 = await cpuMs(pid);
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    rss.push(await rssMb(pid));
    await sleep(everyMs);
  }
  const cores = (await cpuMs(pid)) - cpu0;
  return { rssMb: summarize(rss), cores: cores / (performance.now() - t0) };
}

export interface ReopenResult {
  /** From just before the drop request to every socket seen open again. */
  ms: number;
  /** Sockets the simulator closed. */
  affected: number;
  /** Reconnect attempts (raw: closes seen, one attempt each): more than N when some failed. */
  attempts: number;
  /** Gateway only: recoveries its sessions counted (close -> open), more than N when one dropped again. */
  recoveries?: number;
  /** Gateway only: states a second after all were open again. */
  statesAfter?: string;
  /** Gateway only: sessions that ended in needs_attention or logged_out. */
  givenUp?: number;
}

/** Every socket dropped at once; until GET /sessions shows each session open again, having reconnected. */
export async function dropAndReopenGateway(
  gw: GatewayProcess,
  sim: SimEndpoints,
  n: number,
  bound: Bound,
): Promise<ReopenResult> {
  const listed = await listSessions(gw);
  const before = new Map(listed.map((s) => [s.id, s.reconnects]));
  const attemptsBefore = listed.reduce((sum, s) => sum + s.reconnectAttempts, 0);
  const start = performance.now();
  const affected = await dropAllConnections(sim);
  const reopened = await waitAllOpen(gw, n, bound, before);
  const ms = performance.now() - start;
  const recoveries = reopened.reduce((sum, s) => sum + s.reconnects - (before.get(s.id) ?? 0), 0);
  const attempts = reopened.reduce((sum, s) => sum + s.reconnectAttempts, 0) - attemptsBefore;
  await sleep(1_000);
  const after = await listSessions(gw);
  const givenUp = after.filter((s) => s.state === "needs_attention" || s.state === "logged_out").length;
  return { ms, affected, attempts, recoveries, statesAfter: stateCounts(after), givenUp };
}

/** The same drop for the raw process, which reconnects each socket at once when it closes. */
export async function dropAndReopenRaw(
  raw: RawSessionsProcess,
  sim: SimEndpoints,
  timeoutMs: number,
): Promise<ReopenResult> {
  raw.command({ cmd: "watch-drop" });
  await raw.expect("watching", 10_000);
  const start = performance.now();
  const affected = await dropAllConnections(sim);
  const reopened = await raw.expect("reopened", timeoutMs);
  return { ms: performance.now() - start, affected, attempts: Number(reopened.closes) };
}

export interface RoundResult {
  messages: number;
  /** From the first POST (or send) until the simulator had every message. */
  ms: number;
  perSecond: number;
  /** The sender's CPU (user + system) until it saw every message delivered, per message. */
  cpuMsPerMessage: number;
  /** Gateway only: first POST -> the last one answered 202. */
  acceptMs?: number;
  /** Counted by the simulator over the round, and duplicates among them. */
  received: number;
  duplicates: number;
}

interface SimCounts {
  received: number[];
  duplicates: number;
}

async function simCounts(sim: SimEndpoints, phones: readonly string[]): Promise<SimCounts> {
  const accounts = await allAccountCounters(sim);
  return {
    received: phones.map((p) => accounts[p]?.messagesReceived ?? 0),
    duplicates: phones.reduce((sum, p) => sum + (accounts[p]?.duplicates ?? 0), 0),
  };
}

/** Until the simulator got at least one more message from each of `phones` than `before`; resolves with the time. */
function waitSimReceived(
  sim: SimEndpoints,
  phones: readonly string[],
  before: SimCounts,
  bound: Bound,
): Promise<number> {
  return pollUntil(
    async () => {
      const now = await simCounts(sim, phones);
      const reached = now.received.filter((count, i) => count > before.received[i]!).length;
      return {
        value: reached === phones.length ? performance.now() : undefined,
        progress: `messages from ${reached}/${phones.length} accounts reached the simulator`,
      };
    },
    `a message from each of ${phones.length} accounts at the simulator`,
    bound.timeoutMs,
    bound.pollMs,
  );
}

/** A promise that only ever rejects: `task`'s failure, to race against a wait that would otherwise run to its timeout. */
const failureOf = (task: Promise<unknown>): Promise<never> => task.then(() => new Promise<never>(() => undefined));

async function roundResult(
  sim: SimEndpoints,
  phones: readonly string[],
  before: SimCounts,
  measured: { ms: number; cpuMs: number; acceptMs?: number },
): Promise<RoundResult> {
  const after = await simCounts(sim, phones);
  const n = phones.length;
  return {
    messages: n,
    ms: measured.ms,
    perSecond: (n / measured.ms) * 1000,
    cpuMsPerMessage: measured.cpuMs / n,
    ...(measured.acceptMs === undefined ? {} : { acceptMs: measured.acceptMs }),
    received: after.received.reduce((sum, c, i) => sum + c - before.received[i]!, 0),
    duplicates: after.duplicates - before.duplicates,
  };
}

export interface GatewaySession {
  id: string;
  phone: string;
  contact: string;
}

/**
 * One message from each session to its own contact, POSTed 16 at a time; the
 * rate runs to the simulator having all of them, the CPU to the gateway
 * counting all delivered (the contacts' receipts applied; /metrics, read only
 * once the simulator has them, since each scrape costs the gateway).
 */
export async function gatewayRound(
  gw: GatewayProcess,
  sim: SimEndpoints,
  sessions: readonly GatewaySession[],
  label: string,
  bound: Bound,
): Promise<RoundResult> {
  const n = sessions.length;
  const phones = sessions.map((s) => s.phone);
  const before = await simCounts(sim, phones);
  const deliveredBefore = await gw.outboundReached("delivered");
  const cpu0 = await cpuMs(gw.pid);
  const start = performance.now();
  const posted = postMessages(gw, n, {
    to: (i) => `whatsapp:+${sessions[i]!.contact}`,
    session: (i) => sessions[i]!.id,
    label,
    concurrency: 16,
  }).then(() => performance.now());
  posted.catch(() => undefined); // awaited below; a failed POST also ends the race
  const reached = await Promise.race([waitSimReceived(sim, phones, before, bound), failureOf(posted)]);
  const acceptedAt = await posted;
  await pollUntil(
    async () => {
      const delivered = (await gw.outboundReached("delivered")) - deliveredBefore;
      return { value: delivered >= n ? true : undefined, progress: `${delivered}/${n} delivered` };
    },
    `the gateway to count ${n} messages delivered`,
    bound.timeoutMs,
    bound.pollMs,
  );
  const cpu = (await cpuMs(gw.pid)) - cpu0;
  return roundResult(sim, phones, before, { ms: reached - start, cpuMs: cpu, acceptMs: acceptedAt - start });
}

/** The same round on the raw process: every socket sends at once; CPU until each saw its delivery receipt. */
export async function rawRound(
  raw: RawSessionsProcess,
  sim: SimEndpoints,
  phones: readonly string[],
  label: string,
  bound: Bound,
): Promise<RoundResult> {
  const before = await simCounts(sim, phones);
  const cpu0 = await cpuMs(raw.pid);
  const start = performance.now();
  raw.command({ cmd: "send", label });
  const sent = raw.expect("sent", bound.timeoutMs);
  sent.catch(() => undefined); // awaited below; a failed send also ends the race
  const reached = await Promise.race([waitSimReceived(sim, phones, before, bound), failureOf(sent)]);
  await sent;
  await raw.expect("delivered", bound.timeoutMs);
  const cpu = (await cpuMs(raw.pid)) - cpu0;
  return roundResult(sim, phones, before, { ms: reached - start, cpuMs: cpu });
}

/**
 * Counts the gateway's warning and error log lines (pino JSON) by phase of
 * the benchmark and message, keeping the first line of each.
 */
export class LogWatch {
  /** Set by the benchmark as it goes: where each line came from. */
  phase = "start";
  warnings = 0;
  errors = 0;
  readonly messages = new Map<string, number>();
  readonly firstLines = new Map<string, string>();

  readonly onLine = (line: string): void => {
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      return; // not a log line
    }
    const level = entry.level ?? 0;
    if (level < 40) return;
    if (level >= 50) this.errors++;
    else this.warnings++;
    const key = `${this.phase}, ${level >= 50 ? "error" : "warn"}: ${entry.msg ?? line.slice(0, 200)}`;
    this.messages.set(key, (this.messages.get(key) ?? 0) + 1);
    if (!this.firstLines.has(key)) this.firstLines.set(key, line);
  };
}

/** `task`, or an error naming `what` once `ms` passed (the task itself is left to the caller's cleanup). */
export async function withTimeout<T>(task: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([task, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Until a process used less than `cores` of CPU over a whole second, e.g. a
 * gateway that finished writing what its first logins produced; resolves
 * with the time it took.
 */
export async function waitSettled(pid: number, timeoutMs: number, cores = 0.1): Promise<number> {
  const start = performance.now();
  let last = { at: start, cpu: await cpuMs(pid) };
  let busy = Number.NaN;
  await sleep(1_000);
  return pollUntil(
    async () => {
      const now = { at: performance.now(), cpu: await cpuMs(pid) };
      busy = (now.cpu - last.cpu) / (now.at - last.at);
      last = now;
      return { value: busy < cores ? now.at - start : undefined, progress: `${busy.toFixed(2)} cores busy` };
    },
    `process ${pid} to use under ${cores} cores`,
    timeoutMs,
    1_000,
  );
}
