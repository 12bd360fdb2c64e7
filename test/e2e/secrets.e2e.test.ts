import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON } from "@whiskeysockets/baileys";
import { afterEach, describe, expect, it } from "vitest";
import { FakeTwilioApi } from "../fakes/twilio/fake-twilio-api.ts";
import { inboundParams } from "../fakes/twilio/signed-webhooks.ts";
import { startWhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { binarySecret, filesUnder, findLeaks, textSecret, withForms, type Secret } from "../support/secret-scan.ts";
import { tempDir } from "../support/temp-dir.ts";
import { WebhookReceiver } from "../support/webhook-receiver.ts";

// Every secret set to a recognisable value, every log at its most verbose,
// full flows through gateway processes started like `npm start`; then every
// line they printed and every body they answered is searched for each
// secret in each form it could take.

const main = join(import.meta.dirname, "../../src/main.ts");
const API_KEY = "SECRET-api-key-4f1c9e77";
const OTHER_API_KEY = "SECRET-api-key-second-b2d4";
const TWILIO_TOKEN = "SECRET-twilio-token-8a7b6c5d";
// Standard Webhooks form: whsec_ + base64 of the key bytes (>= 24 of them).
const WEBHOOK_KEY = Buffer.from("SECRET-webhook-key-0123456789abcdef", "utf8");
const WEBHOOK_SECRET = `whsec_${WEBHOOK_KEY.toString("base64")}`;
const PUBLIC_BASE_URL = "https://secrets.example.test";

const baseSecrets: Secret[] = [
  textSecret("API key", API_KEY),
  textSecret("second API key", OTHER_API_KEY),
  withForms(
    textSecret("webhook secret", WEBHOOK_SECRET),
    WEBHOOK_KEY.toString("base64"),
    WEBHOOK_KEY.toString("hex"),
    WEBHOOK_KEY.toString("base64url"),
  ),
];

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP client that keeps every answer body, for the scan. */
function recorder(base: string) {
  const bodies: Array<{ where: string; text: string }> = [];
  return {
    bodies,
    async call(
      method: string,
      path: string,
      init: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
    ) {
      const key = init.key === undefined ? API_KEY : init.key;
      const headers: Record<string, string> = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...init.headers };
      let body: string | undefined = init.raw;
      if (init.body !== undefined) {
        body = JSON.stringify(init.body);
        headers["content-type"] ??= "application/json";
      }
      const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      bodies.push({
        where: `${res.status} ${method} ${path}`,
        text: `${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}`,
      });
      return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
    },
  };
}

type Client = ReturnType<typeof recorder>;

/** The requests any gateway gets wrong on purpose: each must answer without the secret. */
async function badRequests(client: Client): Promise<void> {
  expect((await client.call("GET", "/messages", { key: "wrong-key" })).status).toBe(401);
  expect(
    (
      await client.call("GET", "/messages", {
        key: null,
        headers: { authorization: `Basic ${Buffer.from(`user:${API_KEY}`).toString("base64")}` },
      })
    ).status,
  ).toBe(401);
  expect(
    (await client.call("GET", "/messages", { key: null, headers: { authorization: `Bearer ${API_KEY}x` } })).status,
  ).toBe(401);
  expect((await client.call("POST", "/messages", { body: { to: "nobody", text: "x" } })).status).toBe(400);
  expect(
    (await client.call("POST", "/messages", { raw: "{not json", headers: { "content-type": "application/json" } }))
      .status,
  ).toBe(400);
  expect(
    (await client.call("POST", "/messages", { raw: "to=x", headers: { "content-type": "text/plain" } })).status,
  ).toBe(415);
  expect((await client.call("GET", "/messages?limit=0")).status).toBe(400);
  expect((await client.call("GET", "/nowhere")).status).toBe(404);
  // The second key (unused so far) sent past its burst at once: its 429s are scanned too.
  const statuses = await Promise.all(
    Array.from({ length: 150 }, async () => (await client.call("GET", "/messages/x", { key: OTHER_API_KEY })).status),
  );
  expect(statuses).toContain(429);
}

async function stop(gateway: GatewayProcess): Promise<void> {
  gateway.child.kill("SIGTERM");
  expect((await gateway.exited).code).toBe(0);
}

function expectNoLeaks(secrets: readonly Secret[], texts: Array<{ where: string; text: string }>): void {
  const leaks = findLeaks(secrets, texts);
  const chars = texts.reduce((n, t) => n + t.text.length, 0);
  console.log(
    `secret scan: ${secrets.length} secrets in ${secrets.reduce((n, s) => n + s.forms.length, 0)} forms over ${texts.length} texts (${chars} chars): ${leaks.length} found`,
  );
  expect(leaks, JSON.stringify(leaks.slice(0, 5), null, 2)).toEqual([]);
}

const commonEnv = {
  API_KEYS: `${API_KEY},${OTHER_API_KEY}`,
  LOG_LEVEL: "trace",
  WEBHOOK_SECRET,
  WEBHOOK_BACKOFF_BASE_MS: "20",
  WEBHOOK_BACKOFF_MAX_MS: "100",
  DISPATCH_BACKOFF_BASE_MS: "10",
  DISPATCH_BACKOFF_MAX_MS: "50",
  RATE_LIMIT_PER_SECOND: "50",
  RATE_LIMIT_BURST: "100",
};

describe("no secret in any log line or error body", () => {
  it("the Twilio service: send, retry, fail, status, inbound, forged webhooks, bad requests, webhooks out", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const fake = new FakeTwilioApi({ authToken: TWILIO_TOKEN });
    await fake.start();
    cleanups.push(() => fake.close());
    const receiver = await WebhookReceiver.start(WEBHOOK_SECRET);
    cleanups.push(() => receiver.close());
    receiver.answer(500); // one failed delivery: the retry path logs too
    const gateway = await startGatewayProcess(main, {
      ...commonEnv,
      DATA_DIR: join(dir.path, "data"),
      GATEWAY_PROVIDERS: "twilio",
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM: "+15550001111",
      TWILIO_API_BASE_URL: fake.url,
      TWILIO_LOG_LEVEL: "debug", // the twilio library's own request log, on stdout
      PUBLIC_BASE_URL,
      WEBHOOK_URL: receiver.url,
    });
    cleanups.push(() => void (gateway.child.exitCode === null && gateway.child.kill("SIGKILL")));
    fake.deliverTo = gateway.url;
    const client = recorder(gateway.url);

    const send = async (text: string) =>
      (await client.call("POST", "/messages", { body: { to: "sms:+15557654321", text } })).json().id as string;
    const settled = (id: string, status: string) =>
      eventually(
        async () => {
          const m = (await client.call("GET", `/messages/${id}`)).json() as {
            status: string;
            providerMessageId: string;
          };
          return m.status === status ? m : undefined;
        },
        15_000,
        `${id} ${status}`,
      );

    const sent = await settled(await send("hello"), "sent");
    expect(await fake.sendStatus(sent.providerMessageId, "delivered")).toBe(204);
    fake.fail({ status: 500, code: 20500 });
    await settled(await send("after a 500"), "sent");
    // Twilio refusing the credentials: the error path that is closest to the token.
    fake.fail({ status: 401, code: 20003, message: "Authenticate" });
    await settled(await send("after a 401"), "sent");
    fake.fail({ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    await settled(await send("refused"), "failed");

    const params = inboundParams({
      accountSid: fake.accountSid,
      messageSid: "SM0123456789abcdef0123456789abcdef",
      from: "+15557654321",
      to: "+15550001111",
      body: "reply",
    });
    expect(await fake.post(`${PUBLIC_BASE_URL}/webhooks/twilio/inbound`, params)).toBe(200);
    const form = { "content-type": "application/x-www-form-urlencoded" };
    expect(
      (
        await client.call("POST", "/webhooks/twilio/inbound", {
          key: null,
          raw: new URLSearchParams(params).toString(),
          headers: { ...form, "x-twilio-signature": "forged" },
        })
      ).status,
    ).toBe(403);
    expect(
      (await client.call("POST", "/webhooks/twilio/status", { key: null, raw: "MessageSid=SM1", headers: form }))
        .status,
    ).toBe(403);
    await badRequests(client);
    await eventually(() => (receiver.verified.length >= 4 ? true : undefined), 15_000, "webhooks delivered");
    expect((await client.call("GET", "/webhooks/deliveries?status=failed")).status).toBe(200);
    await stop(gateway);

    const secrets = [
      ...baseSecrets,
      withForms(
        textSecret("Twilio auth token", TWILIO_TOKEN),
        Buffer.from(`${fake.accountSid}:${TWILIO_TOKEN}`).toString("base64"),
      ),
    ];
    // The scan can fail: the token did travel, in the Basic auth the fake received.
    expect(
      findLeaks(secrets, [{ where: "fake's request record", text: JSON.stringify(fake.requests) }]).map(
        (l) => l.secret,
      ),
    ).toContain("Twilio auth token");
    expect(gateway.output.join("\n")).toMatch(/"level":(10|20),/); // the verbose levels were really on
    expectNoLeaks(secrets, [
      { where: "stdout+stderr", text: gateway.output.join("\n") },
      ...client.bodies,
      ...receiver.received.map((r, i) => ({ where: `webhook ${i}`, text: r.body })),
      ...(await filesUnder(join(dir.path, "data"))),
    ]);
  });

  it("the Baileys service on a linked login: send, read receipts, inbound, reconnect, session errors, bad requests", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const sim = await startWhatsAppSimulator({ receipts: { delivery: true, read: true, delayMs: 5 } });
    cleanups.push(() => sim.close());
    const receiver = await WebhookReceiver.start(WEBHOOK_SECRET);
    cleanups.push(() => receiver.close());
    const dataDir = join(dir.path, "data");
    const phone = "40711111111";
    await seedLinkedSession(sim, dataDir, "default", phone);
    const creds = JSON.parse(
      await readFile(join(dataDir, "sessions", "default", "creds.json"), "utf8"),
      BufferJSON.reviver,
    ) as Record<string, unknown>;
    const keys = privateKeys(creds);
    expect(keys.map((k) => k.name)).toEqual(
      expect.arrayContaining(["creds.noiseKey.private", "creds.signedIdentityKey.private", "creds.advSecretKey"]),
    );
    // The scan can fail: it finds the keys in the login file itself (as Baileys stores them).
    const inFile = findLeaks(keys, await filesUnder(join(dataDir, "sessions"))).map((l) => l.secret);
    expect(inFile).toEqual(expect.arrayContaining(["creds.noiseKey.private", "creds.signedIdentityKey.private"]));

    const gateway = await startGatewayProcess(main, {
      ...commonEnv,
      DATA_DIR: dataDir,
      GATEWAY_PROVIDERS: "baileys",
      WA_WEBSOCKET_URL: sim.wsUrl,
      BAILEYS_LOG_LEVEL: "trace",
      RECONNECT_BACKOFF_BASE_MS: "50",
      WEBHOOK_URL: receiver.url,
    });
    cleanups.push(() => void (gateway.child.exitCode === null && gateway.child.kill("SIGKILL")));
    const client = recorder(gateway.url);
    const session = async () =>
      (await client.call("GET", "/sessions/default")).json() as { state: string; reconnects: number };
    await eventually(async () => ((await session()).state === "open" ? true : undefined), 20_000, "session open");

    const id = (await client.call("POST", "/messages", { body: { to: "+40722222222", text: "hello" } })).json()
      .id as string;
    await eventually(
      async () => ((await client.call("GET", `/messages/${id}`)).json().status === "read" ? true : undefined),
      20_000,
      "read",
    );
    await sim.inbound({ from: "40722222222", to: phone, text: "a reply", id: "INBOUNDSECRETS1" });
    await eventually(
      async () =>
        ((await client.call("GET", "/messages?direction=inbound")).json().items as unknown[]).length === 1
          ? true
          : undefined,
      15_000,
      "inbound",
    );
    sim.fault({ phone, kind: "close" });
    await eventually(
      async () => ((await session()).reconnects === 1 && (await session()).state === "open" ? true : undefined),
      20_000,
      "reconnected",
    );
    expect((await client.call("GET", "/sessions/default/qr")).status).toBe(404);
    expect((await client.call("POST", "/sessions/default/pairing-code", { body: { phone: `+${phone}` } })).status).toBe(
      400,
    );
    expect((await client.call("POST", "/sessions", { body: { id: "default" } })).status).toBe(409);
    await badRequests(client);
    await eventually(() => (receiver.verified.length >= 3 ? true : undefined), 15_000, "webhooks delivered");
    await stop(gateway);

    expect(gateway.output.join("\n")).toMatch(/"level":10,/); // Baileys' own trace lines
    expectNoLeaks(
      [...baseSecrets, ...keys],
      [
        { where: "stdout+stderr", text: gateway.output.join("\n") },
        ...client.bodies,
        ...receiver.received.map((r, i) => ({ where: `webhook ${i}`, text: r.body })),
      ],
    );
  });

  it("a generated API key is printed once, and only its sha256 is stored", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const gateway = await startGatewayProcess(join(import.meta.dirname, "../support/memory-gateway.main.ts"), {
      DATA_DIR: dir.path,
      API_KEYS: "",
      LOG_LEVEL: "trace",
    });
    cleanups.push(() => void (gateway.child.exitCode === null && gateway.child.kill("SIGKILL")));
    const key = gateway.output.join("\n").match(/\b(gw_[A-Za-z0-9_-]{20,})\b/)?.[1];
    expect(key).toBeDefined();
    const client = recorder(gateway.url);
    expect(
      (await client.call("POST", "/messages", { key: key!, body: { to: "+40712345678", text: "x" } })).status,
    ).toBe(202);
    expect((await client.call("GET", "/messages", { key: `${key!}x` })).status).toBe(401);
    await stop(gateway);

    const stored = JSON.parse(await readFile(join(dir.path, "api-keys.json"), "utf8")) as unknown;
    expect(stored).toEqual({ version: 1, sha256: [createHash("sha256").update(key!).digest("hex")] });
    const secret = textSecret("generated API key", key!);
    expect(findLeaks([secret], [{ where: "output", text: gateway.output.join("\n") }])).toHaveLength(1); // the one line that shows it
    expectNoLeaks([secret], [...client.bodies, ...(await filesUnder(dir.path))]);
  });

  it.each([
    ["invalid variables beside the secrets", { PORT: "eighty", WEBHOOK_URL: "http://127.0.0.1:1/hooks" }],
    ["an invalid webhook secret", { WEBHOOK_SECRET: `whsec_${API_KEY}!!` }],
    ["a webhook secret too short", { WEBHOOK_SECRET: `whsec_${Buffer.from("SECRET-short").toString("base64")}` }],
    ["twilio without its account", { TWILIO_ACCOUNT_SID: `AC${TWILIO_TOKEN}` }],
    ["a data dir that is a file", { DATA_DIR: "/dev/null/data" }],
  ])("a gateway refusing to start (%s) prints no secret", async (_name, bad) => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const env = {
      ...commonEnv,
      DATA_DIR: join(dir.path, "data"),
      GATEWAY_PROVIDERS: "twilio",
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
      TWILIO_FROM: "+15550001111",
      PUBLIC_BASE_URL,
      ...bad,
    };
    const failure = await startGatewayProcess(main, env, 15_000).then(
      (g) => {
        g.child.kill("SIGKILL");
        throw new Error("the gateway started");
      },
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/exited \((78|1)\) before listening/);
    const secrets = [...baseSecrets, textSecret("Twilio auth token", TWILIO_TOKEN)];
    if (env.WEBHOOK_SECRET !== WEBHOOK_SECRET) secrets.push(textSecret("bad webhook secret", env.WEBHOOK_SECRET));
    expectNoLeaks(secrets, [{ where: "startup output", text: failure }]);
  });
});

/** Every private key and secret of a Baileys login, by path. */
function privateKeys(creds: Record<string, unknown>): Secret[] {
  const found: Secret[] = [];
  const walk = (value: unknown, path: string) => {
    if (value instanceof Uint8Array) {
      if (/private/i.test(path)) found.push(binarySecret(path, value));
      return;
    }
    if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(creds, "creds");
  if (typeof creds.advSecretKey === "string")
    found.push(
      binarySecret("creds.advSecretKey", Buffer.from(creds.advSecretKey, "base64")),
      textSecret("creds.advSecretKey (text)", creds.advSecretKey),
    );
  return found;
}
