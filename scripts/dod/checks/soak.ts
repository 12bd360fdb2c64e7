import { randomBytes } from "node:crypto";
import { until } from "../gateway-client.ts";
import { linkSession, nextPhone } from "../local-parts.ts";
import { percentile, round } from "../stats.ts";
import { CheckFailed, type Check, type Figure } from "../types.ts";
import { deliveryAudit, type SimMessage } from "./delivery-audit.ts";
import { MemoryWatch } from "./memory-watch.ts";

const SESSION = "dod-soak";
/** Steady, well under what one session drains (see the queue row): a soak measures drift, not capacity. */
const RATE_PER_S = 5;
const RECIPIENTS = 5;
const DROP_EVERY_MS = 60_000;
const DROPS = [{ kind: "close" }, { kind: "stream-error", code: 503 }, { kind: "silence" }] as const;
/** Growth allowed to the JS heap kept alive, after warm-up (see memory-watch.ts). */
const HEAP_MAX_GROWTH_PCT = 10;

/**
 * DoD-6: steady traffic for N minutes with a forced drop every minute.
 * Passes with nothing lost or doubled (simulator's record), no 5xx, and the
 * JS heap the gateway keeps alive after warm-up growing less than 10%.
 */
export const soak: Check = async (ctx) => {
  const parts = ctx.parts!;
  const sim = await parts.simulator();
  const gw = await parts.mainGateway();
  const phone = nextPhone();
  await linkSession(gw.client, sim, SESSION, phone);
  const durationMs = ctx.options.soakMinutes * 60_000;
  // Warm-up: JIT, SQLite page cache and Baileys' key caches fill during the first minute or quarter.
  const warmupMs = Math.min(60_000, durationMs / 4);
  const run = randomBytes(3).toString("hex");
  const block = String(randomBytes(2).readUInt16BE() % 10_000).padStart(4, "0");
  const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `+4074${block}${String(i).padStart(3, "0")}`);
  const expected = new Map<string, string[]>(recipients.map((r) => [r.slice(1), []]));
  const chains = recipients.map(() => Promise.resolve());
  const latencies: number[] = [];
  const failures: string[] = [];
  let errors5xx = 0;
  const reconnectsBefore = (await gw.client.session(SESSION))!.reconnects;
  ctx.log(`soak: ${ctx.options.soakMinutes} min at ${RATE_PER_S} msg/s, a drop every ${DROP_EVERY_MS / 1000} s`);

  const started = performance.now();
  const elapsed = () => performance.now() - started;
  let drops = 0;
  // A drop half-way through each minute, so even a one-minute soak has one well inside the traffic.
  const dropTimers: NodeJS.Timeout[] = [];
  for (let at = DROP_EVERY_MS / 2; at < durationMs; at += DROP_EVERY_MS) {
    dropTimers.push(
      setTimeout(() => {
        const fault = DROPS[drops % DROPS.length]!;
        drops++;
        sim
          .call("POST", "/control/fault", { phone, ...fault })
          .catch((error: unknown) => failures.push(`drop: ${String(error)}`));
      }, at),
    );
  }
  const memory = new MemoryWatch(gw);
  try {
    let sent = 0;
    while (elapsed() < durationMs) {
      const i = sent++;
      const r = i % RECIPIENTS;
      const to = recipients[r]!;
      const text = `dod-soak ${run} #${i}`;
      // Open loop: one message every 1/RATE s whatever the latency; posts to one recipient stay in order.
      chains[r] = chains[r]!.then(async () => {
        const t0 = performance.now();
        try {
          const res = await gw.client.request("POST", "/messages", { to, text, session: SESSION });
          await res.body?.cancel();
          if (res.status === 202) {
            latencies.push(performance.now() - t0);
            expected.get(to.slice(1))!.push(text);
          } else {
            if (res.status >= 500) errors5xx++;
            failures.push(`POST /messages ${res.status}`);
          }
        } catch (error) {
          errors5xx++;
          failures.push(`POST /messages: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
      const next = (sent * 1000) / RATE_PER_S;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - elapsed())));
    }
    await Promise.all(chains);
  } finally {
    dropTimers.forEach(clearTimeout);
    memory.halt();
  }
  const trafficMs = elapsed();
  const mem = await memory.stop(warmupMs);
  ctx.log(`soak: RSS MB of the gateway (every 20 s): ${mem.trace}`);

  const wanted = new Set([...expected.values()].flat());
  ctx.log(`soak: ${wanted.size} accepted; waiting for delivery`);
  await until(
    async () => {
      const got = new Set((await sim.call<SimMessage[]>("GET", `/control/messages?from=${phone}`)).map((m) => m.text));
      return [...wanted].every((t) => got.has(t)) || undefined;
    },
    "every accepted message to reach the simulator",
    120_000,
    250,
  ).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const audit = await deliveryAudit(sim, phone, expected);
  const session = await gw.client.session(SESSION);
  const recovered = (session?.reconnects ?? 0) - reconnectsBefore;

  const figures: Record<string, Figure> = {
    minutes: ctx.options.soakMinutes,
    messages: wanted.size,
    ratePerS: round(wanted.size / (trafficMs / 1000), 1),
    drops,
    recovered,
    lost: audit.lost,
    duplicates: audit.duplicates,
    resentSameId: audit.resentSameId,
    outOfOrder: audit.outOfOrderRecipients,
    errors5xx,
    heapStartMb: round(mem.heap.startMb, 1),
    heapEndMb: round(mem.heap.endMb, 1),
    heapGrowthPct: round(mem.heap.growthPct, 1),
    rssAfterGcGrowthPct: round(mem.rssAfterGc.growthPct, 1),
    rssStartMb: round(mem.rss.startMb, 1),
    rssEndMb: round(mem.rss.endMb, 1),
    rssGrowthPct: round(mem.rss.growthPct, 1),
    p50AcceptMs: round(percentile(latencies, 50), 1),
    p99AcceptMs: round(percentile(latencies, 99), 1),
  };
  const problems = [
    failures.length > 0 ? `${failures.length} failed requests (${[...new Set(failures)].slice(0, 3).join("; ")})` : "",
    audit.lost > 0 ? `${audit.lost} lost` : "",
    audit.duplicates > 0 ? `${audit.duplicates} duplicates` : "",
    audit.outOfOrderRecipients > 0 ? `${audit.outOfOrderRecipients} recipients out of order` : "",
    drops > 0 && recovered < drops ? `${drops} drops but only ${recovered} recoveries` : "",
    session?.state !== "open" ? `session ended ${session?.state ?? "missing"}` : "",
    Number.isNaN(mem.heap.growthPct) ? "too few heap samples after warm-up (run longer)" : "",
    mem.heap.growthPct >= HEAP_MAX_GROWTH_PCT
      ? `the heap kept alive grew ${round(mem.heap.growthPct, 1)}% after warm-up (limit ${HEAP_MAX_GROWTH_PCT}%)`
      : "",
  ].filter((p) => p !== "");
  if (problems.length > 0) throw new CheckFailed(problems.join("; "), figures);
  return {
    pass: true,
    figures,
    detail:
      `${RATE_PER_S} msg/s to ${RECIPIENTS} recipients, a drop (close, 503, silence in turn) every minute, all recovered; ` +
      `duplicates = a text under more than one WhatsApp id; resentSameId = an id received again after a drop swallowed its ack (one message for the recipient); ` +
      `after a ${Math.round(warmupMs / 1000)} s warm-up, first third vs last third (medians): heap = JS heap right after a full collection every 10 s (judged), ` +
      `rssAfterGc = RSS right after it, rss = VmRSS every 2 s (both shown, not judged: V8 keeps and returns memory as it likes)`,
  };
};
