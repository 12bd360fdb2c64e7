// The raw baseline of a cold start: a fresh Node process that loads Baileys
// and logs in with a stored login (BareClient, in-memory keys), printing one
// JSON line when the socket is open. Run by bench/cold-start.bench.ts.
import { readFile } from "node:fs/promises";
import { BufferJSON } from "@whiskeysockets/baileys";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { BareClient } from "../../test/fakes/whatsapp/baileys-client.ts";

const creds = JSON.parse(
  await readFile(process.env.RAW_CREDS_FILE!, "utf8"),
  BufferJSON.reviver,
) as AuthenticationCreds;
const client = new BareClient({ wsUrl: process.env.RAW_WS!, creds });
client.connect();
await client.waitForOpen(20_000);
process.stdout.write(`${JSON.stringify({ open: true, port: 0 })}\n`);
await client.end();
process.exit(0);
