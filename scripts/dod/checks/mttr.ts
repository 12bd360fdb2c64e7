import { parsePrometheus, sampleValue } from "../../../test/support/prometheus-text.ts";
import { until } from "../gateway-client.ts";
import { linkSession, MAIN_GATEWAY_SETTINGS, nextPhone } from "../local-parts.ts";
import { round, summarize } from "../stats.ts";
import { CheckFailed, type Check, type Figure } from "../types.ts";

const SESSION = "dod-mttr";
/** The drops, in turn: a rotated (closed) socket, a server stream error, a server that goes silent. */
const KINDS = [
  { label: "close", fault: { kind: "close" }, code: 428 },
  { label: "503", fault: { kind: "stream-error", code: 503 }, code: 503 },
  { label: "silence", fault: { kind: "silence" }, code: 408 },
] as const;
/** The runner polls the session this often: its figures are this coarse. */
const POLL_MS = 20;
/** Span and lastRecoveryMs are two readings of the same clock pair (close -> open). */
const SPAN_TOLERANCE_MS = 2;

interface Drop {
  readonly kind: (typeof KINDS)[number]["label"];
  readonly runnerMs: number;
  readonly reportedMs: number;
  readonly code: number;
}

/**
 * DoD-4: N forced drops of different kinds, each recovered by the gateway on
 * its own. Three readings of each recovery: the runner's (fault sent ->
 * session open again, includes the time to notice the drop), the session's
 * own lastRecoveryMs (close noticed -> open), and the exported
 * whatsapp.reconnect span.
 */
export const mttr: Check = async (ctx) => {
  const parts = ctx.parts!;
  const sim = await parts.simulator();
  const gw = await parts.mainGateway();
  const phone = nextPhone();
  await linkSession(gw.client, sim, SESSION, phone);

  const drops: Drop[] = [];
  for (let i = 0; i < ctx.options.mttrN; i++) {
    const kind = KINDS[i % KINDS.length]!;
    const before = (await gw.client.session(SESSION))!;
    const started = performance.now();
    const { affected } = await sim.call<{ affected: number }>("POST", "/control/fault", { phone, ...kind.fault });
    if (affected < 1)
      throw new CheckFailed(`drop ${i + 1} (${kind.label}) reached no connection of ${phone}`, figuresOf(drops));
    const after = await until(
      async () => {
        const s = await gw.client.session(SESSION);
        return s && s.state === "open" && s.reconnects > before.reconnects ? s : undefined;
      },
      `session ${SESSION} to recover by itself from drop ${i + 1} (${kind.label})`,
      60_000,
      POLL_MS,
    ).catch((error: unknown) => {
      throw new CheckFailed(error instanceof Error ? error.message : String(error), figuresOf(drops));
    });
    const runnerMs = performance.now() - started;
    const code = after.lastDisconnect?.code ?? -1;
    if (code !== kind.code)
      throw new CheckFailed(
        `drop ${i + 1} (${kind.label}) was reported as code ${code}, expected ${kind.code}`,
        figuresOf(drops),
      );
    if (after.lastRecoveryMs === null)
      throw new CheckFailed(`drop ${i + 1} (${kind.label}): the session reports no lastRecoveryMs`, figuresOf(drops));
    drops.push({ kind: kind.label, runnerMs, reportedMs: after.lastRecoveryMs, code });
    ctx.log(
      `mttr: drop ${i + 1}/${ctx.options.mttrN} ${kind.label}: runner ${Math.round(runnerMs)} ms, reported ${after.lastRecoveryMs} ms`,
    );
    // The gateway's own close -> open cannot exceed what the runner saw from before the fault.
    if (after.lastRecoveryMs > runnerMs + POLL_MS) {
      throw new CheckFailed(
        `drop ${i + 1}: lastRecoveryMs ${after.lastRecoveryMs} ms exceeds the runner's ${Math.round(runnerMs)} ms`,
        figuresOf(drops),
      );
    }
  }

  // The spans are exported in batches (OTEL_BSP_SCHEDULE_DELAY=200): wait for all of them.
  const spans = await until(
    async () => {
      const found = (await parts.spans()).filter(
        (s) => s.name === "whatsapp.reconnect" && s.attributes["session.id"] === SESSION,
      );
      return found.length >= drops.length ? found.sort((a, b) => a.startMs - b.startMs) : undefined;
    },
    `${drops.length} whatsapp.reconnect spans of ${SESSION} at the OTLP receiver`,
    15_000,
    200,
  ).catch((error: unknown) => {
    throw new CheckFailed(error instanceof Error ? error.message : String(error), figuresOf(drops));
  });
  const spanMs = spans.map((s) => s.endMs - s.startMs);
  const mismatch = drops.findIndex((d, i) => Math.abs(d.reportedMs - spanMs[i]!) > SPAN_TOLERANCE_MS);
  if (spans.length !== drops.length || mismatch >= 0) {
    throw new CheckFailed(
      `spans disagree with the session: ${spans.length} spans for ${drops.length} drops; drop ${mismatch + 1} reported ${drops[mismatch]?.reportedMs} ms, span ${spanMs[mismatch]} ms`,
      figuresOf(drops, spanMs),
    );
  }

  const metrics = parsePrometheus(await (await gw.client.request("GET", "/metrics")).text());
  const histogramCount = KINDS.reduce(
    (sum, k) =>
      sum +
      (sampleValue(metrics, "gateway_reconnect_duration_seconds_count", { session: SESSION, code: String(k.code) }) ??
        0),
    0,
  );
  if (histogramCount !== drops.length) {
    throw new CheckFailed(
      `/metrics counts ${histogramCount} reconnects of ${SESSION}, expected ${drops.length}`,
      figuresOf(drops, spanMs),
    );
  }

  const perKind = KINDS.map((k) => {
    const of = drops.filter((d) => d.kind === k.label);
    return of.length === 0
      ? ""
      : `${k.label} x${of.length}: runner median ${summarize(of.map((d) => d.runnerMs)).median} ms, reported ${summarize(of.map((d) => d.reportedMs)).median} ms`;
  }).filter((s) => s !== "");
  return {
    pass: true,
    figures: { ...figuresOf(drops, spanMs), metricsCount: histogramCount },
    detail:
      `${drops.length}/${drops.length} recovered by themselves (${perKind.join("; ")}). ` +
      `runner = fault sent -> open (silence is noticed only after keep-alive ${MAIN_GATEWAY_SETTINGS.WA_KEEPALIVE_INTERVAL_MS} ms + 5 s, WA_KEEPALIVE_INTERVAL_MS=${MAIN_GATEWAY_SETTINGS.WA_KEEPALIVE_INTERVAL_MS}); ` +
      `reported = lastRecoveryMs (close -> open); spans = whatsapp.reconnect over OTLP, each within ${SPAN_TOLERANCE_MS} ms of reported`,
  };
};

function figuresOf(drops: readonly Drop[], spanMs: readonly number[] = []): Record<string, Figure> {
  const runner = summarize(drops.map((d) => d.runnerMs));
  const reported = summarize(drops.map((d) => d.reportedMs));
  const figures: Record<string, Figure> = {
    n: drops.length,
    minMs: runner.min,
    medianMs: runner.median,
    p95Ms: runner.p95,
    maxMs: runner.max,
    reportedMedianMs: reported.median,
    reportedP95Ms: reported.p95,
    reportedMaxMs: reported.max,
  };
  for (const k of KINDS) {
    const of = drops.filter((d) => d.kind === k.label).map((d) => d.runnerMs);
    if (of.length > 0) figures[`${k.label}MedianMs`] = summarize(of).median;
  }
  if (spanMs.length > 0) {
    figures.spans = spanMs.length;
    figures.spanMedianMs = round(summarize(spanMs).median);
    figures.spanMaxMs = round(summarize(spanMs).max);
  }
  return figures;
}
