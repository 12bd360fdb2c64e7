import { spawn } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { BufferJSON, DisconnectReason } from "@whiskeysockets/baileys";
import type { AuthenticationCreds } from "@whiskeysockets/baileys";
import { afterEach, describe, expect, it } from "vitest";
import { client, jid, startSim, textOf } from "./harness.ts";

const CLI = fileURLToPath(new URL("../fakes/whatsapp/cli.ts", import.meta.url));
const ALICE = "15550004001";
const CONTACT = "15550009005";

// Control answers are loosely shaped JSON that the tests index into freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, json: (await res.json()) as Json };
}

let child: ChildProcessByStdio<null, Readable, Readable> | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = undefined;
});

describe("control API and CLI", () => {
  it("the CLI prints one JSON line, serves the control API and stops on SIGTERM", async () => {
    child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const line = (await lines.next()).value as string | undefined;
    const urls = JSON.parse(line!) as { ws: string; control: string };
    expect(urls.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
    expect(urls.control).toBe(urls.ws.replace("ws://", "http://").replace("/ws/chat", ""));

    const account = await call(urls.control, "POST", "/control/accounts", { phone: ALICE });
    expect(account.status).toBe(200);
    const creds = JSON.parse(JSON.stringify(account.json.creds), BufferJSON.reviver) as AuthenticationCreds;
    const wa = client({ wsUrl: urls.ws, creds });
    wa.connect();
    await wa.waitForOpen();

    const inbound = await call(urls.control, "POST", "/control/inbound", {
      from: CONTACT,
      to: ALICE,
      text: "from the CLI",
    });
    const got = await wa.waitFor(() => wa.received.find((m) => m.key.id === inbound.json.id), "inbound");
    await wa.sock!.sendMessage(jid(CONTACT), { text: "to the CLI" });
    await expect
      .poll(async () => (await call(urls.control, "GET", `/control/messages?from=${ALICE}`)).json)
      .toEqual([
        expect.objectContaining({
          from: ALICE,
          to: CONTACT,
          text: "to the CLI",
          id: expect.any(String),
          at: expect.any(Number),
        }),
      ]);
    const stats = await call(urls.control, "GET", "/control/stats");
    const fault = await call(urls.control, "POST", "/control/fault", { phone: ALICE, kind: "close" });
    const code = await wa.waitForClose(0);

    const exited = new Promise<number | null>((resolve) => child!.once("exit", (c) => resolve(c)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(textOf(got)).toBe("from the CLI");
    expect(stats.json.accounts[ALICE]).toMatchObject({
      connections: 1,
      messagesReceived: 1,
      uniqueIds: 1,
      duplicates: 0,
    });
    expect(fault.json).toEqual({ affected: 1 });
    expect(code).toBe(DisconnectReason.connectionClosed);
  });

  it("answers bad input with 400 and a message, unknown routes with 404", async () => {
    const sim = await startSim();
    const base = sim.controlUrl;

    const bad = await Promise.all([
      call(base, "POST", "/control/scan", { qr: 1, phone: "x" }),
      call(base, "POST", "/control/fault", { kind: "explode" }),
      call(base, "POST", "/control/fault", { kind: "stream-error" }),
      call(base, "POST", "/control/fault", { kind: "failure", code: "403" }),
      call(base, "POST", "/control/outage", { seconds: -1 }),
      call(base, "POST", "/control/inbound", { from: CONTACT, to: ALICE }),
      call(base, "POST", "/control/receipts", { delivery: "yes" }),
      call(base, "POST", "/control/receipts", "{not json"),
      call(base, "GET", "/control/messages"),
      call(base, "POST", "/control/accounts", { phone: "abc" }),
    ]);
    const missing = await call(base, "POST", "/control/inbound", { from: CONTACT, to: ALICE, text: "nobody" });
    const unknown = await call(base, "GET", "/control/nope");

    for (const response of bad) {
      expect(response.status).toBe(400);
      expect(response.json.error).toEqual(expect.any(String));
    }
    expect(missing.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect((await call(base, "GET", "/control/health")).json.ok).toBe(true);
  });

  it("changes receipt settings and resets recorded traffic", async () => {
    const sim = await startSim();
    const base = sim.controlUrl;
    const account = sim.provisionAccount({ phone: ALICE });
    const wa = client({ wsUrl: sim.wsUrl, creds: account.creds });
    wa.connect();
    await wa.waitForOpen();

    const settings = await call(base, "POST", "/control/receipts", { delivery: true, read: false, delayMs: 5 });
    const sent = await wa.sock!.sendMessage(jid(CONTACT), { text: "count me" });
    await wa.waitFor(() => wa.statuses.get(sent!.key.id!) === 3 || undefined, "DELIVERY_ACK");
    const before = (await call(base, "GET", `/control/messages?from=${ALICE}`)).json;
    const reset = await call(base, "POST", "/control/reset");
    const after = (await call(base, "GET", `/control/messages?from=${ALICE}`)).json;

    expect(settings.json).toEqual({ delivery: true, read: false, delayMs: 5 });
    expect(before).toHaveLength(1);
    expect(reset.json).toEqual({ ok: true });
    expect(after).toEqual([]);
    expect((await call(base, "GET", "/control/stats")).json.accounts).toEqual({});
  });
});
