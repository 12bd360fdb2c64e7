import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTwilioApi } from "../fakes/twilio/fake-twilio-api.ts";
import { inboundParams } from "../fakes/twilio/signed-webhooks.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";

const root = join(import.meta.dirname, "../..");
const denyBaileys = pathToFileURL(join(root, "test/support/deny-baileys/register.mjs")).href;
// The public URL, as behind a TLS-terminating proxy: the process itself listens on plain http.
const PUBLIC_BASE_URL = "https://twilio-gateway.example.test";
const API_KEY = "twilio-service-key";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function readLog(file: string): Promise<string> {
  return readFile(file, "utf8").catch((error: NodeJS.ErrnoException) =>
    error.code === "ENOENT" ? "" : Promise.reject(error),
  );
}

describe("the Twilio service (GATEWAY_PROVIDERS=twilio)", () => {
  it("the deny-baileys hook catches Baileys being loaded (so the next test can fail)", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const log = join(dir.path, "baileys.log");
    // Registered exactly as for the gateway below: NODE_OPTIONS, then tsx.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(root, "test/support/deny-baileys/import-baileys.fixture.ts")],
      {
        env: { ...process.env, NODE_OPTIONS: `--import=${denyBaileys}`, DENY_BAILEYS_LOG: log },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).not.toBe(0);
    expect(stdout).not.toContain("baileys loaded");
    expect(await readLog(log)).toContain("@whiskeysockets/baileys");
  });

  it("boots, sends, tracks statuses and receives without ever loading Baileys, and never logs the auth token", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const fake = new FakeTwilioApi();
    await fake.start();
    cleanups.push(() => fake.close());
    const log = join(dir.path, "baileys.log");
    const gateway: GatewayProcess = await startGatewayProcess(join(root, "src/main.ts"), {
      NODE_OPTIONS: `--import=${denyBaileys}`,
      DENY_BAILEYS_LOG: log,
      DATA_DIR: join(dir.path, "data"),
      API_KEYS: API_KEY,
      LOG_LEVEL: "trace",
      GATEWAY_PROVIDERS: "twilio",
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_FROM: "+15550001111",
      TWILIO_API_BASE_URL: fake.url,
      PUBLIC_BASE_URL,
      DISPATCH_BACKOFF_BASE_MS: "10",
    });
    cleanups.push(() => {
      if (gateway.child.exitCode === null) gateway.child.kill("SIGKILL");
    });
    fake.deliverTo = gateway.url; // the proxy: public URL signed, process reached
    const auth = { authorization: `Bearer ${API_KEY}` };

    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);

    const res = await fetch(`${gateway.url}/messages`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ to: "sms:+15557654321", text: "from the twilio service" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const get = async () =>
      (await (await fetch(`${gateway.url}/messages/${id}`, { headers: auth })).json()) as {
        status: string;
        providerMessageId: string;
      };
    const sent = await eventually(async () => {
      const m = await get();
      return m.status === "sent" ? m : undefined;
    });
    expect(fake.messages.map((m) => m.statusCallback)).toEqual([`${PUBLIC_BASE_URL}/webhooks/twilio/status`]);

    expect(await fake.sendStatus(sent.providerMessageId, "delivered")).toBe(204);
    expect((await get()).status).toBe("delivered");

    const inboundUrl = `${PUBLIC_BASE_URL}/webhooks/twilio/inbound`;
    const params = inboundParams({
      accountSid: fake.accountSid,
      messageSid: "SM0123456789abcdef0123456789abcdef",
      from: "+15557654321",
      to: "+15550001111",
      body: "reply",
    });
    expect(await fake.post(inboundUrl, params)).toBe(200);
    const forged = await fetch(`${gateway.url}/webhooks/twilio/inbound`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": "forged" },
      body: new URLSearchParams({ ...params, MessageSid: "SMforged" }).toString(),
    });
    expect(forged.status).toBe(403);
    const inbound = (await (await fetch(`${gateway.url}/messages?direction=inbound`, { headers: auth })).json()) as {
      items: { text: string }[];
    };
    expect(inbound.items.map((m) => m.text)).toEqual(["reply"]);

    gateway.child.kill("SIGTERM");
    expect((await gateway.exited).code).toBe(0);

    expect(await readLog(log)).toBe("");
    const output = gateway.output.join("\n");
    expect(output).toContain("twilio: provider started");
    expect(output).toContain("twilio: message accepted");
    expect(output).not.toContain(fake.authToken);
    expect(output).not.toContain(Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64"));
  });
});
