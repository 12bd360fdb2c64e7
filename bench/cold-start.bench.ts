// Cold start (issue 5 item 9): process start -> session open, for the gateway
// (node --import tsx src/main.ts) with the embedded (SQLite) store and with Firestore
// (FIRESTORE_AUTH_STATE_MODE=full on Google's emulator, restoring the login
// on an EMPTY data dir), beside a raw baseline measured in the same run: a
// fresh process that loads Baileys and logs in with the same kind of login.
//
//   npx tsx bench/cold-start.bench.ts          (BENCH_REPS=5 repetitions each)
//   BENCH_QUICK=1 npx tsx bench/cold-start.bench.ts   (2 repetitions)
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimProcess, type SimEndpoints } from "./baileys-raw.bench.ts";
import { startFirestoreEmulator } from "../test/support/firestore-emulator.ts";
import { startGateway, waitFor, waitForOpen, type GatewayProcess } from "./support/gateway-process.ts";
import { startProcess } from "./support/processes.ts";
import { benchPhone, seedSession, simCall } from "./support/sim-control.ts";
import { fmtSummary, printRuntime, printTable, summarize, verdict, type Summary } from "./support/stats.ts";

const quick = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const reps = Number(process.env.BENCH_REPS ?? (quick ? 2 : 5));

interface StartSample {
  /** spawn -> "gateway listening" line. */
  listeningMs: number;
  /** spawn -> first GET /sessions/default showing open (polled every 5 ms once listening). */
  openMs: number;
}

/**
 * Times one start of the gateway. The session may open before the HTTP
 * server listens (providers start first); then the figure is the listening
 * time, an upper bound of the open time by at most one poll.
 */
async function timeStart(env: Record<string, string>): Promise<StartSample> {
  const start = performance.now();
  const gw = await startGateway(env);
  const listeningMs = performance.now() - start;
  const states = new Set<string>();
  try {
    await waitFor(
      async () => {
        const s = await gw.session("default").catch(() => undefined);
        if (s) states.add(s.state);
        return s?.state === "open" ? true : undefined;
      },
      "session open",
      30_000,
      5,
    );
    const openMs = performance.now() - start;
    if (states.has("qr")) throw new Error("the gateway showed a QR: the login was not restored");
    return { listeningMs, openMs };
  } finally {
    await gw.stop();
  }
}

async function rawLogin(sim: SimEndpoints, credsFile: string): Promise<number> {
  const start = performance.now();
  const proc = await startProcess(
    join(import.meta.dirname, "support/raw-login.ts"),
    { RAW_WS: sim.ws, RAW_CREDS_FILE: credsFile },
    (line) => (line.includes('"open"') ? 0 : undefined),
  );
  const ms = performance.now() - start;
  await proc.stop();
  return ms;
}

async function repeat<T>(n: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await run(i));
  return out;
}

printRuntime();
const sim = await startSimProcess();
const emulator = await startFirestoreEmulator("demo-bench-cold-start");
const dirs: string[] = [];
const newDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "bench-cold-start-"));
  dirs.push(dir);
  return dir;
};
let primer: GatewayProcess | undefined;

try {
  // Raw baseline: the first login of an account uploads its prekeys, so prime once, then time.
  const rawDir = await newDir();
  const rawCreds = join(rawDir, "creds.json");
  const account = await simCall<{ creds: unknown }>(sim, "POST", "/control/accounts", { phone: benchPhone() });
  await writeFile(rawCreds, JSON.stringify(account.creds));
  await rawLogin(sim, rawCreds);
  const raw = await repeat(reps, () => rawLogin(sim, rawCreds));

  // Embedded store: a linked login on disk (upgraded into sessions.db at the first start, which uploads prekeys and is not timed).
  const diskDir = await newDir();
  await seedSession(sim, diskDir, "default");
  const diskEnv = { WA_WEBSOCKET_URL: sim.ws, DATA_DIR: diskDir };
  primer = await startGateway(diskEnv);
  await waitForOpen(primer, "default", 30_000, 20);
  await primer.stop();
  const disk = await repeat(reps, () => timeStart(diskEnv));

  // Firestore: a gateway in mode=full puts the login into Firestore (backfill
  // from the seeded disk copy, then its own writes), stops (flushing), and
  // every timed start then runs on an EMPTY data dir.
  const fsDir = await newDir();
  await seedSession(sim, fsDir, "default");
  const fsEnv = (dir: string): Record<string, string> => ({
    WA_WEBSOCKET_URL: sim.ws,
    DATA_DIR: dir,
    FIRESTORE_AUTH_STATE_MODE: "full",
    FIRESTORE_PROJECT_ID: emulator.projectId,
    FIRESTORE_EMULATOR_HOST: emulator.host,
  });
  primer = await startGateway(fsEnv(fsDir));
  await waitForOpen(primer, "default", 30_000, 20);
  await primer.stop();
  primer = undefined;
  const firestore = await repeat(reps, async () => {
    await rm(fsDir, { recursive: true, force: true });
    await mkdir(fsDir, { recursive: true, mode: 0o700 });
    return timeStart(fsEnv(fsDir));
  });

  const rawS = summarize(raw);
  const row = (name: string, samples: StartSample[], targetMs: number): string[] => {
    const open: Summary = summarize(samples.map((s) => s.openMs));
    const listening = summarize(samples.map((s) => s.listeningMs));
    return [
      name,
      fmtSummary(open, 0),
      fmtSummary(listening, 0),
      `${(open.median / rawS.median).toFixed(2)}x`,
      `median <= ${targetMs}: ${verdict(open.median <= targetMs)}`,
    ];
  };
  console.log(
    `\nCold start, process start -> session open (${reps} repetitions each; ms, min / median / p95 / max; simulator and emulator in their own processes)`,
  );
  printTable(
    ["start", "-> open", "-> listening", "median vs raw", "target"],
    [
      ["raw: node + tsx + Baileys login (BareClient)", fmtSummary(rawS, 0), "-", "1.00x", "-"],
      row("gateway, embedded store (SQLite)", disk, 1500),
      row("gateway, Firestore full, empty DATA_DIR", firestore, 2000),
    ],
  );
} finally {
  await primer?.stop();
  await sim.stop();
  await emulator.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}
process.exit(0);
