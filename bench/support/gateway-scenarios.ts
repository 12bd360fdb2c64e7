// The four WhatsApp gateway measurements of issue 4 item 9, each against a
// gateway process and the simulator process. Timings are taken in the bench
// process with performance.now(); the gateway's own lastRecoveryMs is read
// back beside them.
import { setTimeout as sleep } from "node:timers/promises";
import type { SimEndpoints } from "../baileys-raw.bench.ts";
import { postMessages, waitFor, waitForOpen, waitForReached, type GatewayProcess } from "./gateway-process.ts";
import { rssMb } from "./processes.ts";
import { accountCounters, seedSession, simCall } from "./sim-control.ts";

export interface RecoveryResult {
  /** From just before POST /control/fault to the first GET /sessions/{id} showing it open again. */
  externalMs: number[];
  /** The session's own lastRecoveryMs (close seen by the supervisor -> open). */
  internalMs: number[];
}

/** N forced drops (server closes the socket: 428), one at a time. */
export async function measureRecovery(
  gw: GatewayProcess,
  sim: SimEndpoints,
  phone: string,
  session: string,
  n: number,
): Promise<RecoveryResult> {
  const result: RecoveryResult = { externalMs: [], internalMs: [] };
  for (let i = 0; i < n; i++) {
    const before = (await waitForOpen(gw, session)).reconnects;
    await sleep(100); // let the previous login's follow-up IQs settle, as between real drops
    const start = performance.now();
    const affected = await simCall<{ affected: number }>(sim, "POST", "/control/fault", { phone, kind: "close" });
    if (affected.affected !== 1) throw new Error(`fault hit ${affected.affected} connections`);
    // 1 ms polling: each GET costs the gateway well under a millisecond, and it bounds the error of the external figure.
    const reopened = await waitFor(
      async () => {
        const s = await gw.session(session);
        return s.state === "open" && s.reconnects > before ? s : undefined;
      },
      `recovery ${i + 1}`,
      15_000,
      1,
    );
    result.externalMs.push(performance.now() - start);
    result.internalMs.push(reopened.lastRecoveryMs ?? Number.NaN);
  }
  return result;
}

export interface ThroughputResult {
  messages: number;
  /** First POST -> the gateway counted the last one delivered. */
  totalMs: number;
  /** First POST -> last POST answered 202. */
  acceptMs: number;
  messagesPerSecond: number;
  /** Counted by the simulator during the run, and duplicates among them. */
  simReceived: number;
  simDuplicates: number;
  /** Privacy-token issuance IQs (`privacy:set:tokens`) the simulator got during the run. */
  tokenIqs: number;
}

/**
 * `perSession` messages from each session to one contact of its own (so each
 * session sends FIFO to one recipient, like the raw sequential-send ceiling),
 * after `warmUp` per session for usync, prekeys, Signal sessions and JIT.
 * End point: the gateway's own count of messages that reached `delivered`
 * (the simulator's delivery receipt applied), from /metrics.
 */
export async function measureThroughput(
  gw: GatewayProcess,
  sim: SimEndpoints,
  sessions: ReadonlyArray<{ id: string; phone: string }>,
  perSession: number,
  warmUp: number,
  recipientsPerSession = 1,
): Promise<ThroughputResult> {
  const k = sessions.length;
  // Message i goes through session i % k to that session's recipient (i / k) % recipientsPerSession.
  const to = (i: number): string =>
    `whatsapp:+1555777${String((i % k) * 100 + (Math.floor(i / k) % recipientsPerSession)).padStart(4, "0")}`;
  const session = (i: number): string => sessions[i % k]!.id;
  const warmBase = await gw.outboundReached("delivered");
  // Enough warm-up that every recipient has its Signal session before the clock starts.
  const warmUps = Math.max(warmUp, recipientsPerSession) * k;
  await postMessages(gw, warmUps, { to, session, label: "warm-up", concurrency: 16 });
  await waitForReached(gw, "delivered", warmBase + warmUps);

  const counters = async (): Promise<{ received: number; duplicates: number; tokenIqs: number }> => {
    const all = await Promise.all(sessions.map((s) => accountCounters(sim, s.phone)));
    const sum = (of: (c: (typeof all)[number]) => number): number => all.reduce((a, c) => a + of(c), 0);
    return {
      received: sum((c) => c.messagesReceived),
      duplicates: sum((c) => c.duplicates),
      tokenIqs: sum((c) => c.iqs?.["privacy:set:tokens"] ?? 0),
    };
  };
  const simBefore = await counters();
  const base = await gw.outboundReached("delivered");
  const total = perSession * k;
  const start = performance.now();
  const accepted = postMessages(gw, total, { to, session, concurrency: 16 }).then(() => performance.now());
  // Awaited below; handled now so a failed POST cannot crash the process before its cleanup runs.
  accepted.catch(() => undefined);
  const done = await waitForReached(gw, "delivered", base + total);
  const acceptedAt = await accepted;
  const simAfter = await counters();
  const totalMs = done - start;
  return {
    messages: total,
    totalMs,
    acceptMs: acceptedAt - start,
    messagesPerSecond: (total / totalMs) * 1000,
    simReceived: simAfter.received - simBefore.received,
    simDuplicates: simAfter.duplicates - simBefore.duplicates,
    tokenIqs: simAfter.tokenIqs - simBefore.tokenIqs,
  };
}

/** RSS after a short idle, so timers and sockets of the last burst have settled. */
export async function settledRss(gw: GatewayProcess): Promise<number> {
  await sleep(1_000);
  return rssMb(gw.pid);
}

/**
 * Links more sessions into the running gateway without a QR: their logins go
 * into the data dir first, then POST /sessions starts each on that login.
 */
export async function addLinkedSessions(
  gw: GatewayProcess,
  sim: SimEndpoints,
  dataDir: string,
  ids: readonly string[],
): Promise<Array<{ id: string; phone: string }>> {
  const added = [];
  for (const id of ids) {
    const phone = await seedSession(sim, dataDir, id);
    const res = await gw.call("POST", "/sessions", { id });
    if (res.status !== 201) throw new Error(`POST /sessions ${id} -> ${res.status}: ${JSON.stringify(res.body)}`);
    added.push({ id, phone });
  }
  for (const { id } of added) await waitForOpen(gw, id, 30_000, 20);
  return added;
}

export interface DrainResult {
  messages: number;
  /** POSTing all of them (during the outage). */
  postMs: number;
  /** Whether every POST was answered before the session opened again. */
  postedBeforeOpen: boolean;
  /** Session open again (seen by polling) -> the gateway counted the last one delivered. */
  drainMs: number;
  messagesPerSecond: number;
  simReceived: number;
  simDuplicates: number;
}

/** `n` messages queued during a simulator outage, drained after the reconnect. */
export async function measureDrain(
  gw: GatewayProcess,
  sim: SimEndpoints,
  phone: string,
  session: string,
  n: number,
  outageS: number,
): Promise<DrainResult> {
  const simBefore = await accountCounters(sim, phone);
  const base = await gw.outboundReached("delivered");
  await simCall(sim, "POST", "/control/outage", { seconds: outageS });
  await waitFor(
    async () => ((await gw.session(session)).state !== "open" ? true : undefined),
    "outage noticed",
    10_000,
    5,
  );
  // Watched from now on, so a reconnect that beats the last POST is still timed from when it happened.
  const opened = waitForOpen(gw, session, outageS * 1000 + 30_000, 2).then(() => performance.now());
  opened.catch(() => undefined); // awaited below; see measureThroughput
  const postStart = performance.now();
  await postMessages(gw, n, {
    to: () => "whatsapp:+15557770000",
    session: () => session,
    label: "queued",
    concurrency: 16,
  });
  const posted = performance.now();
  const openAt = await opened;
  const done = await waitForReached(gw, "delivered", base + n, 300_000);
  const simAfter = await accountCounters(sim, phone);
  return {
    messages: n,
    postMs: posted - postStart,
    postedBeforeOpen: posted <= openAt,
    drainMs: done - openAt,
    messagesPerSecond: (n / (done - openAt)) * 1000,
    simReceived: simAfter.messagesReceived - simBefore.messagesReceived,
    simDuplicates: simAfter.duplicates - simBefore.duplicates,
  };
}
