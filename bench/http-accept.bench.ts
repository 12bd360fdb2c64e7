// POST /messages accept throughput and latency: the gateway (validation, auth,
// durable SQLite commit) beside a bare node:http 202 handler, same tool, same
// concurrency, same run. Ratios are what to compare across machines.
// Also measured in the same run, to show where the time goes: a minimal Hono
// app on the same adapter (the framework floor), and for each target the CPU
// its process used per request (server time, user + system, all threads).
import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { runLoad, type LoadResult } from "./support/load.ts";
import { cpuMs, portFromJsonLine, rssMb, startProcess } from "./support/processes.ts";

const durationS = Number(process.env.BENCH_DURATION_S ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const root = join(import.meta.dirname, "..");

export async function benchHttpAccept(gatewayEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-accept-"));
  const bare = await startProcess(join(root, "bench/support/bare-202-server.ts"), {}, portFromJsonLine("port"));
  const hono = await startProcess(join(root, "bench/support/hono-202-server.ts"), {}, portFromJsonLine("port"));
  const gateway = await startProcess(
    join(root, "test/support/memory-gateway.main.ts"),
    { DATA_DIR: dataDir, API_KEYS: "bench-key", PORT: "0", LOG_LEVEL: "info", RATE_LIMIT_PER_SECOND: "0", ...gatewayEnv },
    (line) => (line.includes('"gateway listening"') ? (JSON.parse(line) as { port: number }).port : undefined),
  ).catch(async (error: unknown) => {
    await Promise.all([bare.stop(), hono.stop()]);
    throw error;
  });
  try {
    const body = JSON.stringify({ to: "whatsapp:+40712345678", text: "benchmark message", metadata: { run: 1 } });
    const headers = { "content-type": "application/json", authorization: "Bearer bench-key" };
    const load = (port: number, seconds: number) =>
      runLoad({ url: `http://127.0.0.1:${port}/messages`, connections, durationS: seconds, headers, body });
    const measure = async (target: { port: number; child: { pid?: number } }): Promise<Measured> => {
      const before = await cpuMs(target.child.pid!);
      const result = await load(target.port, durationS);
      const cpu = (await cpuMs(target.child.pid!)) - before;
      return { ...result, cpuUsPerRequest: result.total > 0 ? (cpu * 1000) / result.total : 0 };
    };
    // Warm every target up (JIT, SQLite page cache) before measuring.
    for (const target of [bare, hono, gateway]) await load(target.port, 2);
    const baseline = await measure(bare);
    const floor = await measure(hono);
    const measured = await measure(gateway);
    const rss = await rssMb(gateway.child.pid!);
    const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
    printTable(baseline, floor, measured, ratio, rss);
    if (measured.non2xx > 0 || measured.errors > 0) throw new Error(`gateway answered ${measured.non2xx} non-2xx and ${measured.errors} errors`);
    return { connections, durationS, baseline, honoFloor: floor, gateway: measured, ratio, gatewayRssMb: rss };
  } finally {
    await Promise.all([gateway.stop(), bare.stop(), hono.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

interface Measured extends LoadResult {
  /** CPU time of the server process (all threads, user + system) per answered request, in microseconds. */
  readonly cpuUsPerRequest: number;
}

function printTable(baseline: Measured, floor: Measured, measured: Measured, ratio: number, rss: number): void {
  const row = (name: string, r: Measured) =>
    `| ${name.padEnd(34)} | ${r.requestsPerSecond.toFixed(0).padStart(8)} | ${r.p50Ms.toFixed(1).padStart(7)} | ${r.p99Ms.toFixed(1).padStart(7)} | ${String(r.total).padStart(8)} | ${r.cpuUsPerRequest.toFixed(1).padStart(10)} |`;
  console.log(`\nPOST /messages accept (autocannon, ${connections} connections, ${durationS} s each)`);
  console.log("| target                             |    req/s | p50 ms  | p99 ms  | requests | CPU us/req |");
  console.log("| ---------------------------------- | -------- | ------- | ------- | -------- | ---------- |");
  console.log(row("bare node:http 202", baseline));
  console.log(row("minimal Hono app 202 (floor)", floor));
  console.log(row("gateway (durable SQLite commit)", measured));
  console.log(`ratio gateway / bare: ${ratio.toFixed(2)} (target >= 0.50)   Hono floor / bare: ${(floor.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}   gateway / Hono floor: ${(measured.requestsPerSecond / floor.requestsPerSecond).toFixed(2)}`);
  console.log(`gateway RSS after run: ${rss} MB`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchHttpAccept(process.env.SQLITE_SYNCHRONOUS ? { SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS } : {});
}
