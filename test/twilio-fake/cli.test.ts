import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { BaseUrlRequestClient } from "../../src/adapters/messaging/twilio/twilio-http-client.ts";

const cli = join(import.meta.dirname, "../fakes/twilio/cli.ts");
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Started {
  url: string;
  control: string;
  accountSid: string;
  authToken: string;
}

async function startCli(): Promise<Started> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", cli], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`fake Twilio CLI exited (${code}) before printing its URL`)));
  });
  return JSON.parse(line) as Started;
}

async function control(base: Started, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(
    `${base.control}${path}`,
    body === undefined ? {} : { method: "POST", body: JSON.stringify(body) },
  );
  expect(res.status).toBe(200);
  return res.json();
}

describe("fake Twilio CLI", () => {
  it("prints its URL and credentials, serves the real library, and takes scripted failures", async () => {
    const fake = await startCli();
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = twilio(fake.accountSid, fake.authToken, { httpClient: new BaseUrlRequestClient(fake.url) });

    await control(fake, "/fail", { status: 429, times: 1 });
    await control(fake, "/fail", { status: 400, code: 21610 });
    const throttled = await client.messages
      .create({ to: "+15557654321", from: "+15550001111", body: "a" })
      .catch((e: unknown) => e);
    expect(throttled).toMatchObject({ status: 429, code: 20429 });
    const refused = await client.messages
      .create({ to: "+15557654321", from: "+15550001111", body: "b" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      status: 400,
      code: 21610,
      message: "Attempt to send to unsubscribed recipient",
      moreInfo: "https://www.twilio.com/docs/errors/21610",
    });
    const created = await client.messages.create({
      to: "whatsapp:+15557654321",
      from: "whatsapp:+15550001111",
      body: "c",
    });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created.status).toBe("queued");

    const messages = (await control(fake, "/messages")) as { sid: string; to: string }[];
    expect(messages).toEqual([expect.objectContaining({ sid: created.sid, to: "whatsapp:+15557654321" })]);
    const requests = (await control(fake, "/requests")) as { status: number }[];
    expect(requests.map((r) => r.status)).toEqual([429, 400, 201]);
    await control(fake, "/reset", {});
    expect(await control(fake, "/messages")).toEqual([]);
  });

  it("refuses wrong credentials with Twilio's 20003", async () => {
    const fake = await startCli();
    const client = twilio(fake.accountSid, "wrong", { httpClient: new BaseUrlRequestClient(fake.url) });
    const error = await client.messages
      .create({ to: "+15557654321", from: "+15550001111", body: "x" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: 20003 });
  });

  it("posts signed inbound messages that the library's own validator accepts", async () => {
    const fake = await startCli();
    const received: Array<{ url: string; signature: string | undefined; params: Record<string, string> }> = [];
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({
          url: req.url ?? "",
          signature: req.headers["x-twilio-signature"] as string | undefined,
          params: Object.fromEntries(new URLSearchParams(body)),
        });
        res.writeHead(200, { "content-type": "text/xml" }).end("<Response></Response>");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/twilio/inbound`;

    const answer = (await control(fake, "/inbound", { url, from: "+15557654321", to: "+15550001111", body: "hi" })) as {
      status: number;
    };
    expect(answer.status).toBe(200);
    const [call] = received;
    expect(call?.params).toMatchObject({
      From: "+15557654321",
      To: "+15550001111",
      Body: "hi",
      AccountSid: fake.accountSid,
    });
    expect(twilio.validateRequest(fake.authToken, call!.signature!, url, call!.params)).toBe(true);
    expect(twilio.validateRequest("other-token", call!.signature!, url, call!.params)).toBe(false);
  });
});
