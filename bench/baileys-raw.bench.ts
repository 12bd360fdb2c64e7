// The raw Baileys ceilings on the WhatsApp simulator: how fast a bare
// Baileys 7.0.0-rc14 socket reconnects after the server closes it, and how
// many sequential sends to one contact per second reach a server ack. The
// gateway's own figures are compared with these, ideally in the same run:
// import measureRawReconnect / measureRawSendRate and print them alongside.
//
//   npx tsx bench/baileys-raw.bench.ts [reconnects=10] [sends=200]
//   (or BENCH_RECONNECTS / BENCH_SENDS)
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BufferJSON, useMultiFileAuthState } from "@whiskeysockets/baileys";
import type { AuthenticationCreds, BinaryNode } from "@whiskeysockets/baileys";
import { BareClient } from "../test/fakes/whatsapp/baileys-client.ts";
import { printRuntime } from "./support/stats.ts";

/** Where a simulator listens (the JSON line its CLI prints). */
export interface SimEndpoints {
  ws: string;
  control: string;
}

export interface ReconnectResult {
  n: number;
  samplesMs: number[];
  minMs: number;
  medianMs: number;
  maxMs: number;
}

export interface SendRateResult {
  n: number;
  /** Messages per second from the first send to the last server ack. */
  messagesPerSecond: number;
  /** Time for the sequential sendMessage() loop alone. */
  sendLoopMs: number;
  totalMs: number;
}

const CLI = fileURLToPath(new URL("../test/fakes/whatsapp/cli.ts", import.meta.url));
/** Warm-up sends before a send rate is measured (the gateway benchmark gives both sides the same). */
export const WARM_UP_SENDS = 100;
let phoneSeq = 0;

/** Starts the simulator CLI in its own process (as the gateway would see it). */
export async function startSimProcess(): Promise<SimEndpoints & { stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error("simulator exited before printing its URLs");
  const endpoints = JSON.parse(first.value) as SimEndpoints;
  return {
    ...endpoints,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        // A simulator that cannot close cleanly must not keep the benchmark alive.
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

async function control(
  sim: SimEndpoints,
  path: string,
  body: unknown,
): Promise<{ creds?: unknown; affected?: number }> {
  const res = await fetch(`${sim.control}${path}`, { method: "POST", body: JSON.stringify(body) });
  const json = (await res.json()) as { creds?: unknown; affected?: number };
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/**
 * Where a raw socket keeps its login: in memory (the ceiling), or in a
 * directory through Baileys' own `useMultiFileAuthState` (a file per key,
 * written without fsync), the usual way a raw Baileys program persists it.
 */
export type RawAuth = "memory" | "files";

/** A pre-provisioned bare Baileys socket, open; `close` also removes its auth directory. */
async function openClient(
  sim: SimEndpoints,
  auth: RawAuth = "memory",
): Promise<{ client: BareClient; phone: string; close(): Promise<void> }> {
  const phone = `1555${String(process.pid % 100_000).padStart(5, "0")}${String(++phoneSeq).padStart(3, "0")}`;
  const account = await control(sim, "/control/accounts", { phone });
  const creds = JSON.parse(JSON.stringify(account.creds), BufferJSON.reviver) as AuthenticationCreds;
  let dir: string | undefined;
  let client: BareClient;
  if (auth === "files") {
    dir = await mkdtemp(join(tmpdir(), "bench-raw-auth-"));
    await writeFile(join(dir, "creds.json"), JSON.stringify(creds, BufferJSON.replacer));
    const files = await useMultiFileAuthState(dir);
    client = new BareClient({ wsUrl: sim.ws, auth: files.state, saveCreds: files.saveCreds });
  } else {
    client = new BareClient({ wsUrl: sim.ws, creds });
  }
  client.connect();
  await client.waitForOpen();
  return {
    client,
    phone,
    close: async () => {
      await client.end();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function withSim<T>(sim: SimEndpoints | undefined, run: (sim: SimEndpoints) => Promise<T>): Promise<T> {
  if (sim) return run(sim);
  const own = await startSimProcess();
  try {
    return await run(own);
  } finally {
    await own.stop();
  }
}

/**
 * Server closes the socket -> client open again, reconnecting immediately on
 * close; timed from the client's close event to its next `open`.
 */
export async function measureRawReconnect(n = 10, sim?: SimEndpoints): Promise<ReconnectResult> {
  return withSim(sim, async (endpoints) => {
    const { client, phone } = await openClient(endpoints);
    const samplesMs: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const seen = client.closeCodes.length;
        let closedAt = 0;
        const reopened = new Promise<void>((resolve, reject) => {
          client.sock!.ev.on("connection.update", ({ connection }) => {
            if (connection !== "close") return;
            closedAt = performance.now();
            client.connect();
            client.waitForOpen().then(() => resolve(), reject);
          });
        });
        await control(endpoints, "/control/fault", { phone, kind: "close" });
        await reopened;
        samplesMs.push(performance.now() - closedAt);
        if (client.closeCodes.length !== seen + 1) throw new Error("unexpected extra disconnect");
      }
    } finally {
      await client.end();
    }
    const sorted = [...samplesMs].sort((a, b) => a - b);
    return {
      n,
      samplesMs,
      minMs: sorted[0]!,
      medianMs: sorted[Math.floor((sorted.length - 1) / 2)]!,
      maxMs: sorted.at(-1)!,
    };
  });
}

/**
 * A bare Baileys socket sending to one simulated contact, kept open so its
 * send rate can be measured several times (interleaved with the gateway's).
 */
export interface RawSender {
  /** Sequential sends, awaited one after another (the warm-up of usync, prekeys, the Signal session and the JIT). */
  warmUp(n: number): Promise<void>;
  /** `n` sequential sends; the rate runs from the first send to the last server ack. */
  measure(n: number): Promise<SendRateResult>;
  close(): Promise<void>;
}

export async function openRawSender(sim: SimEndpoints, auth: RawAuth = "memory"): Promise<RawSender> {
  const { client, close } = await openClient(sim, auth);
  const sock = client.sock!;
  const contact = "15559990000@s.whatsapp.net";
  const acked = new Set<string>();
  let onAck: (() => void) | undefined;
  sock.ws.on("CB:ack,class:message", (node: BinaryNode) => {
    if (node.attrs.id) acked.add(node.attrs.id);
    onAck?.();
  });
  let sent = 0;
  return {
    async warmUp(n) {
      let last;
      for (let i = 0; i < n; i++) last = await sock.sendMessage(contact, { text: `warm-up ${sent++}` });
      if (last) await client.waitFor(() => acked.has(last.key.id!) || undefined, "warm-up ack");
    },
    async measure(n) {
      acked.clear();
      const start = performance.now();
      for (let i = 0; i < n; i++) await sock.sendMessage(contact, { text: `bench ${sent++}` });
      const sendLoopMs = performance.now() - start;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${acked.size}/${n} acks`)), 30_000);
        onAck = () => acked.size >= n && (clearTimeout(timer), resolve());
        onAck();
      });
      onAck = undefined;
      const totalMs = performance.now() - start;
      return { n, messagesPerSecond: (n / totalMs) * 1000, sendLoopMs, totalMs };
    },
    close,
  };
}

/** Sequential sends to one simulated contact after {@link WARM_UP_SENDS} warm-up sends; rate measured to the last server ack. */
export async function measureRawSendRate(n = 200, sim?: SimEndpoints): Promise<SendRateResult> {
  return withSim(sim, async (endpoints) => {
    const sender = await openRawSender(endpoints);
    try {
      await sender.warmUp(WARM_UP_SENDS);
      return await sender.measure(n);
    } finally {
      await sender.close();
    }
  });
}

function printTable(reconnect: ReconnectResult, send: SendRateResult): void {
  const row = (name: string, value: string): string => `| ${name.padEnd(44)} | ${value.padEnd(40)} |`;
  console.log("\nRaw Baileys 7.0.0-rc14 on the WhatsApp simulator (simulator in its own process)");
  console.log(row("measure", "value"));
  console.log(row("-".repeat(44), "-".repeat(40)));
  console.log(
    row(
      `reconnect, server close -> open (N=${reconnect.n})`,
      `min ${reconnect.minMs.toFixed(1)} / median ${reconnect.medianMs.toFixed(1)} / max ${reconnect.maxMs.toFixed(1)} ms`,
    ),
  );
  console.log(
    row(
      `sequential sends to server ack (N=${send.n})`,
      `${send.messagesPerSecond.toFixed(0)} msg/s (${send.totalMs.toFixed(0)} ms)`,
    ),
  );
  console.log(row("  of which the client-side send loop", `${((send.n / send.sendLoopMs) * 1000).toFixed(0)} msg/s`));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printRuntime();
  const reconnects = Number(process.argv[2] ?? process.env.BENCH_RECONNECTS ?? 10);
  const sends = Number(process.argv[3] ?? process.env.BENCH_SENDS ?? 200);
  const sim = await startSimProcess();
  try {
    const reconnect = await measureRawReconnect(reconnects, sim);
    const send = await measureRawSendRate(sends, sim);
    printTable(reconnect, send);
  } finally {
    await sim.stop();
  }
  // Baileys keeps a few cache timers alive; the figures are printed, leave now.
  process.exit(0);
}
