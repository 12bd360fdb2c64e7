// POST /messages accept throughput and latency: the gateway (validation, auth,
// durable SQLite commit) beside a bare node:http 202 handler, same tool, same
// concurrency, same run. Ratios are what to compare across machines.
import { join } from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { runLoad, type LoadResult } from "./support/load.ts";
import { portFromJsonLine, rssMb, startProcess } from "./support/processes.ts";

const durationS = Number(process.env.BENCH_DURATION_S ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const root = join(import.meta.dirname, "..");

export async function benchHttpAccept(gatewayEnv: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-accept-"));
  const bare = await startProcess(join(root, "bench/support/bare-202-server.ts"), {}, portFromJsonLine("port"));
  const gateway = await startProcess(
    join(root, "test/support/memory-gateway.main.ts"),
    { DATA_DIR: dataDir, API_KEYS: "bench-key", PORT: "0", LOG_LEVEL: "info", RATE_LIMIT_PER_SECOND: "0", ...gatewayEnv },
    (line) => (line.includes('"gateway listening"') ? (JSON.parse(line) as { port: number }).port : undefined),
  ).catch(async (error: unknown) => {
    await bare.stop();
    throw error;
  });
  try {
    const body = JSON.stringify({ to: "whatsapp:+40712345678", text: "benchmark message", metadata: { run: 1 } });
    const headers = { "content-type": "application/json", authorization: "Bearer bench-key" };
    // Warm both up (JIT, SQLite page cache) before measuring.
    await runLoad({ url: `http://127.0.0.1:${bare.port}/messages`, connections, durationS: 2, headers, body });
    await runLoad({ url: `http://127.0.0.1:${gateway.port}/messages`, connections, durationS: 2, headers, body });
    const baseline = await runLoad({ url: `http://127.0.0.1:${bare.port}/messages`, connections, durationS, headers, body });
    const measured = await runLoad({ url: `http://127.0.0.1:${gateway.port}/messages`, connections, durationS, headers, body });
    const rss = await rssMb(gateway.child.pid!);
    const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
    printTable(baseline, measured, ratio, rss);
    if (measured.non2xx > 0 || measured.errors > 0) throw new Error(`gateway answered ${measured.non2xx} non-2xx and ${measured.errors} errors`);
    return { connections, durationS, baseline, gateway: measured, ratio, gatewayRssMb: rss };
  } finally {
    await gateway.stop();
    await bare.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function printTable(baseline: LoadResult, measured: LoadResult, ratio: number, rss: number): void {
  const row = (name: string, r: LoadResult) =>
    `| ${name.padEnd(34)} | ${r.requestsPerSecond.toFixed(0).padStart(8)} | ${r.p50Ms.toFixed(1).padStart(7)} | ${r.p99Ms.toFixed(1).padStart(7)} | ${String(r.total).padStart(8)} |`;
  console.log(`\nPOST /messages accept (autocannon, ${connections} connections, ${durationS} s each)`);
  console.log("| target                             |    req/s | p50 ms  | p99 ms  | requests |");
  console.log("| ---------------------------------- | -------- | ------- | ------- | -------- |");
  console.log(row("bare node:http 202", baseline));
  console.log(row("gateway (durable SQLite commit)", measured));
  console.log(`ratio gateway / bare: ${ratio.toFixed(2)} (target >= 0.50)   gateway RSS after run: ${rss} MB`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchHttpAccept(process.env.SQLITE_SYNCHRONOUS ? { SQLITE_SYNCHRONOUS: process.env.SQLITE_SYNCHRONOUS } : {});
}
