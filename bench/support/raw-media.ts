// One bare Baileys socket sending files to one contact: the raw side of
// bench/media.bench.ts. Its own process, so the benchmark can read its memory
// from /proc apart from its own; driven over stdin/stdout one JSON line each
// way by the same driver as raw-sessions.ts (raw-sessions-process.ts).
//
// Env: RAW_WS (the simulator's WebSocket URL), RAW_ACCOUNTS_FILE (a JSON array
// with one {phone, contact, creds}, creds in BufferJSON form), RAW_MEDIA_CA_FILE
// (the simulator's caFile: uploads trust its media server through fetchAgent).
// Events: {"event":"open"} once the socket is open, then one per command:
//   {"cmd":"text","text"} and {"cmd":"media",...} -> "acked" {id, ms} once the
//     server acked the message (ms: from just before sendMessage to the ack);
//   {"cmd":"status"} -> "status"; {"cmd":"stop"} -> "stopped", then it exits.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { BufferJSON } from "@whiskeysockets/baileys";
import type { AnyMessageContent, AuthenticationCreds, BinaryNode } from "@whiskeysockets/baileys";
import { BareClient } from "../../test/fakes/whatsapp/baileys-client.ts";
import { mediaTrust } from "../../test/fakes/whatsapp/media-trust.ts";
import type { RawAccount } from "./raw-sessions.ts";
// Does nothing unless BENCH_MEMORY_TRACE_FILE is set (BENCH_MEMORY_TRACE on the benchmark).
import "./memory-trace.ts";

/** A file the raw socket sends by path, as a raw program would: `{video: {url}}` or `{document: {url}}`. */
export interface RawMediaFile {
  kind: "video" | "document";
  path: string;
  mimetype: string;
  fileName?: string;
}

export type RawMediaCommand =
  | { cmd: "text"; text: string }
  | ({ cmd: "media" } & RawMediaFile)
  | { cmd: "status" }
  | { cmd: "stop"; save: boolean };

// stdout carries only the protocol; libsignal logs with console.*.
for (const method of ["log", "info", "warn", "debug"] as const) {
  console[method] = (...args: unknown[]): void => void process.stderr.write(`${args.map(String).join(" ")}\n`);
}
const emit = (event: string, extra: Record<string, unknown> = {}): void =>
  void process.stdout.write(`${JSON.stringify({ event, ...extra })}\n`);

const [account] = JSON.parse(
  await readFile(process.env.RAW_ACCOUNTS_FILE!, "utf8"),
  BufferJSON.reviver,
) as RawAccount[];
if (!account) throw new Error("RAW_ACCOUNTS_FILE holds no account");
const trust = await mediaTrust(process.env.RAW_MEDIA_CA_FILE!);
const client = new BareClient({
  wsUrl: process.env.RAW_WS!,
  creds: account.creds as AuthenticationCreds,
  fetchAgent: trust.fetchAgent,
  // A 50 MB upload on a busy machine takes seconds; Baileys' default query timeout is not for uploads.
  defaultQueryTimeoutMs: 60_000,
});
const contactJid = `${account.contact}@s.whatsapp.net`;

/** Server acks by message id, with their error code if the server refused the message. */
const acks = new Map<string, string | undefined>();
/** Who waits for which ack (an ack can also come before sendMessage returns: then it is in `acks`). */
const ackWaiters = new Map<string, (error: string | undefined) => void>();
let sends = 0;
let stopping = false;

const sock = client.connect();
sock.ws.on("CB:ack,class:message", (node: BinaryNode) => {
  const id = node.attrs.id;
  if (!id) return;
  acks.set(id, node.attrs.error);
  ackWaiters.get(id)?.(node.attrs.error);
});
sock.ev.on("connection.update", ({ connection }) => {
  if (connection === "open") emit("open");
  // One socket for the whole run: a close in the middle would make a figure meaningless.
  if (connection === "close" && !stopping) emit("error", { message: "the raw socket closed" });
});

async function sendAndWaitAck(content: AnyMessageContent): Promise<void> {
  const start = performance.now();
  const sent = await sock.sendMessage(contactJid, content);
  const id = sent?.key.id;
  if (!id) throw new Error("sendMessage returned no message id");
  const error = acks.has(id) ? acks.get(id) : await ackOf(id, 120_000);
  if (error !== undefined) throw new Error(`the server refused message ${id}: error ${error}`);
  sends++;
  emit("acked", { id, ms: performance.now() - start });
}

function ackOf(id: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ackWaiters.delete(id);
      reject(new Error(`no server ack for ${id} within ${timeoutMs} ms`));
    }, timeoutMs);
    ackWaiters.set(id, (error) => {
      clearTimeout(timer);
      ackWaiters.delete(id);
      resolve(error);
    });
  });
}

function mediaContent(file: RawMediaFile): AnyMessageContent {
  if (file.kind === "video") return { video: { url: file.path }, mimetype: file.mimetype };
  return { document: { url: file.path }, mimetype: file.mimetype, fileName: file.fileName ?? "file" };
}

async function stop(): Promise<void> {
  stopping = true;
  await client.end();
  emit("stopped");
  // Baileys keeps cache timers alive.
  process.exit(0);
}

const commands = createInterface({ input: process.stdin });
// The benchmark went away: leave with it.
commands.on("close", () => void stop().catch(() => process.exit(1)));
commands.on("line", (line) => {
  const command = JSON.parse(line) as RawMediaCommand;
  const failed = (error: unknown): void => emit("error", { message: String(error) });
  switch (command.cmd) {
    case "text":
      sendAndWaitAck({ text: command.text }).catch(failed);
      break;
    case "media":
      sendAndWaitAck(mediaContent(command)).catch(failed);
      break;
    case "status":
      emit("status", { open: client.isOpen, acked: sends });
      break;
    case "stop":
      stop().catch(failed);
      break;
  }
});
