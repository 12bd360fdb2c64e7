// N bare Baileys sockets in one process, each its own linked account sending
// to its own contact: the raw side of bench/many-sessions.bench.ts. It runs
// as its own process so the benchmark can read its CPU and memory from /proc
// apart from its own, and is driven over stdin/stdout, one JSON line each way
// (bench/support/raw-sessions-process.ts is the other end).
//
// Env: RAW_WS (the simulator's WebSocket URL), RAW_ACCOUNTS_FILE (a JSON array
// of {phone, contact, creds}, creds in BufferJSON form).
// Events: {"event":"open"} once every socket is open, then one per command:
//   {"cmd":"watch-drop"} -> "watching", later "reopened" once every socket
//     closed and opened again (each reconnects at once when closed);
//   {"cmd":"send","label"} -> "sent" once each socket sent one message to its
//     contact, "delivered" once each got the contact's delivery receipt;
//   {"cmd":"status"} -> "status" with counts (for a report after a timeout);
//   {"cmd":"stop","save"} -> "stopped" (with save, the creds go back to the
//     file first, so the next process logs in as a restarted one would).
import { readFile, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { BufferJSON, proto } from "@whiskeysockets/baileys";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { BareClient } from "../../test/fakes/whatsapp/baileys-client.ts";
import type { SimLogger } from "../../test/fakes/whatsapp/logger.ts";
import { ConnectPacer } from "../../src/app/sessions/connect-pacer.ts";

export interface RawAccount {
  phone: string;
  contact: string;
  creds: unknown;
}

export type RawCommand =
  { cmd: "watch-drop" } | { cmd: "send"; label: string } | { cmd: "status" } | { cmd: "stop"; save: boolean };

export interface RawStatus {
  open: number;
  closes: number;
  reopened: number;
  sent: number;
  delivered: number;
  /** Sends that failed once and were sent again. */
  sendRetries: number;
  /** Baileys' warning and error lines, "warn: msg" -> count (the gateway's are counted the same way). */
  logs: Record<string, number>;
}

const DELIVERY_ACK = proto.WebMessageInfo.Status.DELIVERY_ACK;

// stdout carries only the protocol; libsignal logs with console.*.
for (const method of ["log", "info", "warn", "debug"] as const) {
  console[method] = (...args: unknown[]): void => void process.stderr.write(`${args.map(String).join(" ")}\n`);
}
const emit = (event: string, extra: Record<string, unknown> = {}): void =>
  void process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);

/** Counts what Baileys logs at warn and error, as the gateway's log does at BAILEYS_LOG_LEVEL=warn. */
const logs: Record<string, number> = {};
const countingLogger = (): SimLogger => {
  const count =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      const key = `${level}: ${msg ?? (typeof obj === "string" ? obj : JSON.stringify(obj))}`;
      logs[key] = (logs[key] ?? 0) + 1;
    };
  const logger: SimLogger = {
    level: "warn",
    child: () => logger,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: count("warn"),
    error: count("error"),
  };
  return logger;
};

const file = process.env.RAW_ACCOUNTS_FILE!;
const accounts = (JSON.parse(await readFile(file, "utf8"), BufferJSON.reviver) as RawAccount[]).map((a) => ({
  ...a,
  client: new BareClient({
    wsUrl: process.env.RAW_WS!,
    creds: a.creds as AuthenticationCreds,
    logger: countingLogger(),
  }),
}));
const n = accounts.length;
let stopping = false;
let openedOnce = false;
/** Close counts when the drop was announced; undefined when no drop is awaited. */
let dropBaseline: number[] | undefined;
/** The round being sent: its message ids, and the ids seen delivered (a receipt can beat sendMessage's return). */
let round: { ids: Set<string>; deliveredSeen: Set<string>; delivered: number } | undefined;

const countOpen = (): number => accounts.filter((a) => a.client.isOpen).length;
const countReopened = (baseline: number[]): number =>
  accounts.filter((a, i) => a.client.isOpen && a.client.closeCodes.length > baseline[i]!).length;

function onOpen(): void {
  if (!openedOnce && countOpen() === n) {
    openedOnce = true;
    emit("open");
  }
  const baseline = dropBaseline;
  if (baseline && countReopened(baseline) === n) {
    dropBaseline = undefined;
    // One close per socket for the drop, more when a reconnect failed: each close is one reconnect attempt.
    emit("reopened", { closes: accounts.reduce((sum, a, i) => sum + a.client.closeCodes.length - baseline[i]!, 0) });
  }
}

function onDelivered(id: string): void {
  if (!round || round.deliveredSeen.has(id)) return;
  round.deliveredSeen.add(id);
  if (round.ids.has(id) && ++round.delivered === n) emit("delivered");
}

/**
 * Sockets opened a second, after a burst of as many (RAW_CONNECTS_PER_SECOND,
 * the gateway's WA_CONNECTS_PER_SECOND default; 0: all at once). Unpaced, a
 * thousand noise handshakes at once in one process time out ("error in
 * validating connection: Timed Out") and the sockets that come back fail
 * their first sends.
 */
const pacer = new ConnectPacer(Number(process.env.RAW_CONNECTS_PER_SECOND ?? 50));

/** Connects (in its turn), and again whenever the socket closes, as a raw program that stays online does. */
function keepConnected(client: BareClient): void {
  void pacer.turn().then(() => {
    if (!stopping) connectNow(client);
  });
}

function connectNow(client: BareClient): void {
  const sock = client.connect();
  sock.ev.on("connection.update", ({ connection }) => {
    if (client.sock !== sock) return;
    if (connection === "open") onOpen();
    if (connection === "close" && !stopping) keepConnected(client);
  });
  // Baileys buffers its events: a receipt that comes before the sent message's upsert is emitted is merged into it.
  sock.ev.on("messages.update", (updates) => {
    for (const { key, update } of updates)
      if (key.id && typeof update.status === "number" && update.status >= DELIVERY_ACK) onDelivered(key.id);
  });
  sock.ev.on("messages.upsert", ({ messages }) => {
    for (const { key, status } of messages)
      if (key.fromMe && key.id && typeof status === "number" && status >= DELIVERY_ACK) onDelivered(key.id);
  });
}

async function send(label: string): Promise<void> {
  round = { ids: new Set(), deliveredSeen: new Set(), delivered: 0 };
  const current = round;
  await Promise.all(
    accounts.map(async (a, i) => {
      const sent = await sendOnceAgainOnFailure(a.client, `${a.contact}@s.whatsapp.net`, `${label} ${i}`);
      const id = sent!.key.id!;
      current.ids.add(id);
      if (current.deliveredSeen.has(id) && ++current.delivered === n) emit("delivered");
    }),
  );
  emit("sent");
}

/** Sends failed once (at 1,000 sockets, a first send may fail with libsignal's "No sessions"), as a program would retry it. */
let sendRetries = 0;

async function sendOnceAgainOnFailure(client: BareClient, jid: string, text: string) {
  try {
    return await client.sock!.sendMessage(jid, { text });
  } catch {
    sendRetries++;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return client.sock!.sendMessage(jid, { text });
  }
}

let stopped: Promise<void> | undefined;
const stop = (save: boolean): Promise<void> => (stopped ??= stopNow(save));

async function stopNow(save: boolean): Promise<void> {
  stopping = true;
  if (save) {
    const saved = accounts.map((a) => ({ phone: a.phone, contact: a.contact, creds: a.client.auth.creds }));
    await writeFile(file, JSON.stringify(saved, BufferJSON.replacer));
  }
  await Promise.all(accounts.map((a) => a.client.end()));
  emit("stopped");
  // Baileys keeps cache timers alive.
  process.exit(0);
}

function status(): RawStatus {
  return {
    open: countOpen(),
    closes: accounts.reduce((sum, a) => sum + a.client.closeCodes.length, 0),
    reopened: dropBaseline ? countReopened(dropBaseline) : 0,
    sent: round?.ids.size ?? 0,
    delivered: round?.delivered ?? 0,
    sendRetries,
    logs,
  };
}

const commands = createInterface({ input: process.stdin });
// The benchmark went away (crashed, killed): leave with it rather than keep N sockets open.
commands.on("close", () => void stop(false).catch(() => process.exit(1)));
commands.on("line", (line) => {
  const command = JSON.parse(line) as RawCommand;
  const failed = (error: unknown): void => emit("error", { message: String(error) });
  switch (command.cmd) {
    case "watch-drop":
      dropBaseline = accounts.map((a) => a.client.closeCodes.length);
      emit("watching");
      break;
    case "send":
      send(command.label).catch(failed);
      break;
    case "status":
      emit("status", { ...status() });
      break;
    case "stop":
      stop(command.save).catch(failed);
      break;
  }
});
for (const a of accounts) keepConnected(a.client);
