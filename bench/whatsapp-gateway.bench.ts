// The WhatsApp gateway (src/main.ts in its own process, real Baileys) against
// the simulator (its own process), beside the raw Baileys ceilings measured
// on the same simulator in the same run (bench/baileys-raw.bench.ts). On a
// shared 2-core machine absolute figures wander; the ratios are the result.
//
// The one-session delivery rate is measured in interleaved rounds (raw
// Baileys, then the gateway, BENCH_ROUNDS times) after the same warm-up on
// both sides, and the ratio is the median of the rounds' ratios: on these
// VMs the speed of the whole machine drifts within minutes.
//
//   npx tsx bench/whatsapp-gateway.bench.ts            (issue 4 item 9 sizes)
//   BENCH_QUICK=1 npx tsx bench/whatsapp-gateway.bench.ts   (or --quick: a quick check)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureRawReconnect, openRawSender, startSimProcess, type SendRateResult } from "./baileys-raw.bench.ts";
import { startGateway, waitForOpen, type GatewayProcess } from "./support/gateway-process.ts";
import {
  addLinkedSessions,
  measureDrain,
  measureRecovery,
  measureThroughput,
  settledRss,
  type ThroughputResult,
} from "./support/gateway-scenarios.ts";
import { seedSession, simCall } from "./support/sim-control.ts";
import { fmtSummary, printRuntime, printTable, summarize, verdict } from "./support/stats.ts";

const quick = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const size = {
  drops: Number(process.env.BENCH_DROPS ?? (quick ? 5 : 10)),
  messages: Number(process.env.BENCH_MESSAGES ?? (quick ? 100 : 500)),
  sessions: Number(process.env.BENCH_SESSIONS ?? 10),
  perSession: Number(process.env.BENCH_PER_SESSION ?? (quick ? 20 : 100)),
  drain: Number(process.env.BENCH_DRAIN ?? (quick ? 200 : 1000)),
  outageS: Number(process.env.BENCH_OUTAGE_S ?? (quick ? 3 : 6)),
  /** Sends before the one-session rounds, the same on both sides (the gateway's code path is longer to warm). */
  warmUp: Number(process.env.BENCH_WARM_UP ?? (quick ? 300 : 1000)),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  /** Warm-up of the other rows (their sessions and recipients get their Signal sessions). */
  rowWarmUp: 100,
  /** (e): delay of every simulator frame, so each server ack comes this much later. */
  latencyMs: Number(process.env.BENCH_LATENCY_MS ?? 20),
};
/** Recipients of the second one-session row. */
const SPREAD_RECIPIENTS = 8;

printRuntime();
const sim = await startSimProcess();
const dirs: string[] = [];
const gateways: GatewayProcess[] = [];
const closers: Array<() => Promise<void>> = [];
const dataDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "bench-wa-gateway-"));
  dirs.push(dir);
  return dir;
};
const gatewayEnv = (dir: string, extra: Record<string, string> = {}): Record<string, string> => ({
  WA_WEBSOCKET_URL: sim.ws,
  DATA_DIR: dir,
  DEFAULT_SESSION: "default",
  ...extra,
});

try {
  // Delivery receipts only: the end point is the gateway's count of messages
  // that reached delivered, and read receipts would only add work the raw
  // ceiling does not do.
  await simCall(sim, "POST", "/control/receipts", { delivery: true, read: false, delayMs: 0 });
  // The ceilings first, on the same simulator process the gateway will use.
  const rawReconnect = await measureRawReconnect(size.drops, sim);
  const raw = await openRawSender(sim);
  closers.push(() => raw.close());
  await raw.warmUp(size.warmUp);
  // A second ceiling for the record: raw Baileys keeping its login in files
  // (Baileys' own useMultiFileAuthState), as a raw program that survives a
  // restart does. The target is judged against the in-memory one.
  const rawFiles = await openRawSender(sim, "files");
  closers.push(() => rawFiles.close());
  await rawFiles.warmUp(size.warmUp);

  // One gateway for (a) recovery, (b) one-session throughput and (c) 10 sessions.
  const dir = await dataDir();
  const phone = await seedSession(sim, dir, "default");
  const gw = await startGateway(gatewayEnv(dir));
  gateways.push(gw);
  await waitForOpen(gw, "default", 30_000, 20);
  const recovery = await measureRecovery(gw, sim, phone, "default", size.drops);
  await measureThroughput(gw, sim, [{ id: "default", phone }], 0, size.warmUp);
  const rounds: Array<{
    raw: SendRateResult;
    rawFiles: SendRateResult;
    gateway: ThroughputResult;
    ratio: number;
    ratioFiles: number;
  }> = [];
  for (let round = 0; round < size.rounds; round++) {
    const rawRound = await raw.measure(size.messages);
    const rawFilesRound = await rawFiles.measure(size.messages);
    const gatewayRound = await measureThroughput(gw, sim, [{ id: "default", phone }], size.messages, 0);
    rounds.push({
      raw: rawRound,
      rawFiles: rawFilesRound,
      gateway: gatewayRound,
      ratio: gatewayRound.messagesPerSecond / rawRound.messagesPerSecond,
      ratioFiles: gatewayRound.messagesPerSecond / rawFilesRound.messagesPerSecond,
    });
  }
  const rawSend = { n: size.messages, messagesPerSecond: summarize(rounds.map((r) => r.raw.messagesPerSecond)).median };
  // The same session sending to several recipients: FIFO holds per recipient, so their sends overlap.
  const spread = await measureThroughput(
    gw,
    sim,
    [{ id: "default", phone }],
    size.messages,
    size.rowWarmUp,
    SPREAD_RECIPIENTS,
  );
  const rss1 = await settledRss(gw);
  const extraIds = Array.from({ length: size.sessions - 1 }, (_, i) => `s${i + 2}`);
  const more = await addLinkedSessions(gw, sim, dir, extraIds);
  const many = await measureThroughput(gw, sim, [{ id: "default", phone }, ...more], size.perSession, 20);
  const rssN = await settledRss(gw);

  // (e) The same sends over a link with latency: raw Baileys does not wait
  // for acks; the gateway's window keeps up to WA_SEND_WINDOW messages to a
  // recipient unacked, and a window of 1 waits for each ack in turn. Before
  // (d): the drain's outage closes the raw socket too.
  await simCall(sim, "POST", "/control/frame-delay", { ms: size.latencyMs });
  const rawSlow = await raw.measure(size.messages);
  const window8 = await measureThroughput(gw, sim, [{ id: "default", phone }], size.messages, 0);
  await gw.stop();
  const oneDir = await dataDir();
  const onePhone = await seedSession(sim, oneDir, "default");
  const oneGw = await startGateway(gatewayEnv(oneDir, { WA_SEND_WINDOW: "1" }));
  gateways.push(oneGw);
  await waitForOpen(oneGw, "default", 30_000, 20);
  const window1 = await measureThroughput(
    oneGw,
    sim,
    [{ id: "default", phone: onePhone }],
    size.messages,
    size.rowWarmUp,
  );
  await oneGw.stop();
  await simCall(sim, "POST", "/control/frame-delay", { ms: 0 });

  // (d) on a fresh gateway, so the drain does not share the process with ten reconnecting sessions.
  // A short backoff cap: the reconnect comes soon after the outage ends (the figure starts at open anyway).
  const drainDir = await dataDir();
  const drainPhone = await seedSession(sim, drainDir, "default");
  const drainGw = await startGateway(
    gatewayEnv(drainDir, { RECONNECT_BACKOFF_BASE_MS: "100", RECONNECT_BACKOFF_MAX_MS: "500" }),
  );
  gateways.push(drainGw);
  await waitForOpen(drainGw, "default", 30_000, 20);
  await measureThroughput(drainGw, sim, [{ id: "default", phone: drainPhone }], 0, 20);
  const drain = await measureDrain(drainGw, sim, drainPhone, "default", size.drain, size.outageS);
  await drainGw.stop();

  const ext = summarize(recovery.externalMs);
  const own = summarize(recovery.internalMs);
  const rawR = summarize(rawReconnect.samplesMs);
  const perSessionMb = (rssN - rss1) / (size.sessions - 1);
  console.log(
    `\nWhatsApp gateway on the simulator${quick ? " (QUICK sizes)" : ""}: gateway and simulator each in their own process, raw Baileys ceilings from the same run`,
  );
  console.log(
    `\n(a) time to recover over N=${size.drops} forced drops (server closes the socket, code 428); ms, min / median / p95 / max`,
  );
  printTable(
    ["measure", "min / median / p95 / max", "median vs raw", "target"],
    [
      ["raw Baileys: close -> open", fmtSummary(rawR), "1.00x", "-"],
      [
        "gateway: fault request -> GET /sessions shows open",
        fmtSummary(ext),
        `${(ext.median / rawR.median).toFixed(2)}x`,
        `median <= 100: ${verdict(ext.median <= 100)}; p95 <= 250: ${verdict(ext.p95 <= 250)}`,
      ],
      [
        "gateway: session's own lastRecoveryMs",
        fmtSummary(own),
        `${(own.median / rawR.median).toFixed(2)}x`,
        `median <= 100: ${verdict(own.median <= 100)}; p95 <= 250: ${verdict(own.p95 <= 250)}`,
      ],
    ],
  );
  console.log(
    `\n(b) one session, one recipient, ${size.rounds} interleaved rounds of ${size.messages} messages after ${size.warmUp} warm-up sends on each side.` +
      `\n    raw Baileys: sequential sendMessage() to the simulator's server acks, login in memory (the ceiling) and in files (useMultiFileAuthState);` +
      `\n    gateway: POST accepted -> the gateway counts the message delivered (simulator receipt applied; /metrics)`,
  );
  const ratio1 = summarize(rounds.map((r) => r.ratio)).median;
  printTable(
    [
      "round",
      "raw msg/s",
      "raw, login in files, msg/s",
      "gateway msg/s",
      "gateway vs raw",
      "vs raw, login in files",
      "all POSTs accepted after",
      "sim received / dup",
      "privacy-token IQs",
    ],
    rounds.map((r, i) => [
      String(i + 1),
      r.raw.messagesPerSecond.toFixed(0),
      r.rawFiles.messagesPerSecond.toFixed(0),
      r.gateway.messagesPerSecond.toFixed(0),
      r.ratio.toFixed(2),
      r.ratioFiles.toFixed(2),
      `${r.gateway.acceptMs.toFixed(0)} ms`,
      `${r.gateway.simReceived} / ${r.gateway.simDuplicates}`,
      String(r.gateway.tokenIqs),
    ]),
  );
  console.log(
    `median ratio: ${ratio1.toFixed(2)} (target >= 0.50: ${verdict(ratio1 >= 0.5)}); median raw rate ${rawSend.messagesPerSecond.toFixed(0)} msg/s`,
  );
  console.log(
    `median ratio to raw Baileys with its login in files: ${summarize(rounds.map((r) => r.ratioFiles)).median.toFixed(2)}`,
  );
  console.log(`\n(b, c) more senders, against that median raw rate`);
  const ratioN = many.messagesPerSecond / rawSend.messagesPerSecond;
  const ratioSpread = spread.messagesPerSecond / rawSend.messagesPerSecond;
  printTable(
    ["measure", "messages", "msg/s", "vs raw", "all POSTs accepted after", "sim received / dup", "target"],
    [
      [
        `gateway, 1 session, ${SPREAD_RECIPIENTS} recipients`,
        String(spread.messages),
        spread.messagesPerSecond.toFixed(0),
        ratioSpread.toFixed(2),
        `${spread.acceptMs.toFixed(0)} ms`,
        `${spread.simReceived} / ${spread.simDuplicates}`,
        "-",
      ],
      [
        `gateway, ${size.sessions} sessions, 1 recipient each`,
        String(many.messages),
        many.messagesPerSecond.toFixed(0),
        ratioN.toFixed(2),
        `${many.acceptMs.toFixed(0)} ms`,
        `${many.simReceived} / ${many.simDuplicates}`,
        "-",
      ],
    ],
  );
  console.log(`\n(c) gateway RSS (/proc VmRSS, 1 s after the last burst)`);
  printTable(
    ["linked sessions", "RSS MB", "per additional session", "target"],
    [
      ["1", rss1.toFixed(1), "-", "-"],
      [
        String(size.sessions),
        rssN.toFixed(1),
        `${perSessionMb.toFixed(1)} MB`,
        `<= 20 MB: ${verdict(perSessionMb <= 20)}`,
      ],
    ],
  );
  console.log(`\n(d) drain: ${drain.messages} messages POSTed during a ${size.outageS} s simulator outage`);
  printTable(
    ["measure", "value"],
    [
      [
        "POSTing them (during the outage)",
        `${drain.postMs.toFixed(0)} ms${drain.postedBeforeOpen ? "" : " (NOT all accepted before the reconnect)"}`,
      ],
      [
        "session open again -> all delivered",
        `${(drain.drainMs / 1000).toFixed(2)} s (${drain.messagesPerSecond.toFixed(0)} msg/s, ${(drain.messagesPerSecond / rawSend.messagesPerSecond).toFixed(2)}x raw send rate)`,
      ],
      ["simulator received / duplicates", `${drain.simReceived} / ${drain.simDuplicates}`],
    ],
  );
  console.log(
    `\n(e) one session, one recipient, every simulator frame ${size.latencyMs} ms late (each server ack ${size.latencyMs} ms after its message)`,
  );
  printTable(
    ["measure", "messages", "msg/s", "vs raw", "sim received / dup"],
    [
      [
        "raw Baileys: sequential sends to server ack",
        String(rawSlow.n),
        rawSlow.messagesPerSecond.toFixed(0),
        "1.00",
        "-",
      ],
      [
        "gateway, WA_SEND_WINDOW=8 (default)",
        String(window8.messages),
        window8.messagesPerSecond.toFixed(0),
        (window8.messagesPerSecond / rawSlow.messagesPerSecond).toFixed(2),
        `${window8.simReceived} / ${window8.simDuplicates}`,
      ],
      [
        "gateway, WA_SEND_WINDOW=1 (each waits for the ack before it)",
        String(window1.messages),
        window1.messagesPerSecond.toFixed(0),
        (window1.messagesPerSecond / rawSlow.messagesPerSecond).toFixed(2),
        `${window1.simReceived} / ${window1.simDuplicates}`,
      ],
    ],
  );
  const parts = [...rounds.map((r) => r.gateway), spread, many, drain, window8, window1];
  const lost = parts.some((part) => part.simReceived !== part.messages);
  if (lost || parts.some((part) => part.simDuplicates > 0))
    throw new Error("the simulator did not receive every message exactly once");
} finally {
  for (const close of closers) await close().catch(() => undefined);
  for (const gw of gateways) await gw.stop();
  await sim.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}
// Baileys (in measureRaw*) keeps cache timers alive; the figures are printed, leave now.
process.exit(0);
