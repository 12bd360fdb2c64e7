import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { mediaLinkSecret, SignedMediaLinks } from "../../src/app/media/signed-media-links.ts";
import { systemClock } from "../../src/domain/ports/clock.port.ts";
import { TEST_API_KEY, eventually } from "../support/in-process-gateway.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { startTwilioGateway, type TwilioGateway } from "../support/twilio-gateway.ts";

interface ApiMedia {
  id: string | null;
  kind: string;
  mimeType: string | null;
  size: number | null;
  sha256: string | null;
  url: string | null;
  error: { code: string; message: string } | null;
}

interface ApiMessage {
  id: string;
  status: string;
  text: string;
  from: string | null;
  media: ApiMedia[];
  error: { code: string; message: string } | null;
}

const DAY_MS = 86_400_000;
const SMS_TO = "sms:+15557654321";

let t: TwilioGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The gateway served on a loopback port that is its PUBLIC_BASE_URL, so the fake can fetch its links. */
async function served(env: Record<string, string> = {}): Promise<TwilioGateway> {
  t = await startTwilioGateway(env, [], { listen: true });
  return t;
}

async function upload(gw: TwilioGateway, bytes: Uint8Array, contentType: string): Promise<string> {
  const res = await gw.gw.gateway.app.request("/media", {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": contentType },
    body: bytes,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function settled(gw: TwilioGateway, id: string): Promise<ApiMessage> {
  return eventually(
    async () => {
      const m = (await (await gw.gw.call("GET", `/messages/${id}`)).json()) as ApiMessage;
      return m.status === "sent" || m.status === "failed" ? m : undefined;
    },
    15_000,
    `message ${id} to settle`,
  );
}

async function inboundMessages(gw: TwilioGateway): Promise<ApiMessage[]> {
  return ((await (await gw.gw.call("GET", "/messages?direction=inbound")).json()) as { items: ApiMessage[] }).items;
}

/** Links signed with the gateway's own key (the file it generated in DATA_DIR), at any moment. */
function linksAt(gw: TwilioGateway, now: () => Date = () => systemClock.now()): SignedMediaLinks {
  return new SignedMediaLinks(gw.publicBaseUrl, mediaLinkSecret(undefined, gw.gw.dataDir), { now });
}

async function codeOf(res: Response): Promise<string> {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return ((await res.json()) as { code: string }).code;
}

describe("MMS out through Twilio: signed public links", () => {
  it("gives Twilio a signed link per uploaded file, which it fetches to the same bytes", async () => {
    const gw = await served();
    const png = mediaFixture.png(30_000);
    const jpeg = mediaFixture.jpeg(12_345);
    const ids = [await upload(gw, png, "image/png"), await upload(gw, jpeg, "image/jpeg")];

    const res = await gw.gw.call("POST", "/messages", {
      body: { to: SMS_TO, text: "two photos", media: ids.map((id) => ({ id })) },
    });
    expect(res.status).toBe(202);
    const sent = await settled(gw, ((await res.json()) as { id: string }).id);
    expect(sent.status).toBe("sent");

    const form = gw.fake.creates()[0]!.form;
    expect(form.Body).toBe("two photos");
    const urls = form.MediaUrl as string[];
    expect(urls).toHaveLength(2);
    urls.forEach((url, i) =>
      expect(url).toMatch(new RegExp(`^${gw.publicBaseUrl}/media/${ids[i]}/public\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`)),
    );
    // What "Twilio" got when it fetched each link from the gateway: the uploaded bytes.
    expect(gw.fake.messages[0]!.media).toEqual([
      {
        url: urls[0],
        status: 200,
        contentType: "image/png",
        size: png.byteLength,
        sha256: sha256Hex(png),
        error: null,
      },
      {
        url: urls[1],
        status: 200,
        contentType: "image/jpeg",
        size: jpeg.byteLength,
        sha256: sha256Hex(jpeg),
        error: null,
      },
    ]);
  });

  it("serves a link without an API key, with the file's headers and a cache lifetime within its expiry", async () => {
    const gw = await served();
    const png = mediaFixture.png(4_000);
    const id = await upload(gw, png, "image/png");
    const link = linksAt(gw).link(id);

    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect(sha256Hex(new Uint8Array(await res.arrayBuffer()))).toBe(sha256Hex(png));
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBe(String(png.byteLength));
    expect(res.headers.get("content-disposition")).toMatch(/^attachment/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(DAY_MS / 1000 - 60);
    expect(maxAge).toBeLessThanOrEqual(DAY_MS / 1000);

    const head = await fetch(link, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(png.byteLength));

    // A link an hour from its end is cached for at most that hour.
    const late = linksAt(gw, () => new Date(Date.now() - DAY_MS + 3_600_000)).link(id);
    const lateAge = Number(/max-age=(\d+)/.exec((await fetch(late)).headers.get("cache-control") ?? "")?.[1]);
    expect(lateAge).toBeLessThanOrEqual(3_600);
    expect(lateAge).toBeGreaterThan(3_500);
  });

  it("answers 403 MEDIA.LINK_INVALID to a bad or missing signature and 403 MEDIA.LINK_EXPIRED to an old link", async () => {
    const gw = await served();
    const [id, other] = [
      await upload(gw, mediaFixture.png(), "image/png"),
      await upload(gw, mediaFixture.png(), "image/png"),
    ];
    const link = new URL(linksAt(gw).link(id));
    const sig = link.searchParams.get("sig")!;
    const exp = link.searchParams.get("exp")!;
    const base = `${gw.publicBaseUrl}/media`;
    const invalid = [
      `${base}/${id}/public?exp=${exp}&sig=${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`,
      `${base}/${id}/public?exp=${Number(exp) + 86_400}&sig=${sig}`,
      `${base}/${other}/public?exp=${exp}&sig=${sig}`,
      `${base}/${id}/public?exp=${exp}`,
      `${base}/${id}/public`,
    ];
    for (const url of invalid) {
      const res = await fetch(url);
      expect({ url, status: res.status }).toEqual({ url, status: 403 });
      expect(await codeOf(res)).toBe("MEDIA.LINK_INVALID");
    }
    const expired = linksAt(gw, () => new Date(Date.now() - 2 * DAY_MS)).link(id);
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe("MEDIA.LINK_EXPIRED");
    // Signed with another gateway's key: invalid, however fresh.
    const foreign = new SignedMediaLinks(gw.publicBaseUrl, "another-gateway-media-link-secret-01", systemClock);
    expect(await codeOf(await fetch(foreign.link(id)))).toBe("MEDIA.LINK_INVALID");
  });

  it("answers 404 to a genuine link to a deleted file, and keeps the API key on every other media route", async () => {
    const gw = await served();
    const id = await upload(gw, mediaFixture.png(), "image/png");
    const link = linksAt(gw).link(id);
    const query = new URL(link).search;
    // Only GET and HEAD of the public path go without a key.
    for (const [method, path] of [
      ["GET", `/media/${id}`],
      ["DELETE", `/media/${id}`],
      ["POST", `/media/${id}/public${query}`],
      ["DELETE", `/media/${id}/public${query}`],
      ["GET", `/media/${id}/public/${query}`],
    ] as const) {
      const res = await fetch(`${gw.publicBaseUrl}${path}`, { method });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 401 });
    }
    expect((await gw.gw.call("DELETE", `/media/${id}`)).status).toBe(204);
    const res = await fetch(link);
    expect(res.status).toBe(404);
    expect(await codeOf(res)).toBe("MEDIA.NOT_FOUND");
  });
});

describe("MMS in through Twilio: files downloaded from Twilio", () => {
  it("records an incoming photo held by the gateway, the same bytes at /media/{id}, fetched with the account's credentials", async () => {
    const gw = await served();
    const photo = mediaFixture.jpeg(20_000);
    // Through the fake's control API, as a process-level runner would.
    const control = await fetch(`${gw.fake.url}/control/inbound`, {
      method: "POST",
      body: JSON.stringify({
        url: `${gw.publicBaseUrl}/webhooks/twilio/inbound`,
        from: "+15557654321",
        to: "+15550001111",
        body: "a photo",
        media: [{ contentType: "image/jpeg", base64: Buffer.from(photo).toString("base64") }],
      }),
    });
    expect(control.status).toBe(200);
    const answer = (await control.json()) as { status: number; mediaUrls: string[] };
    expect(answer.status).toBe(200);
    expect(answer.mediaUrls[0]).toMatch(
      new RegExp(
        `^${gw.fake.url}/2010-04-01/Accounts/${gw.fake.accountSid}/Messages/SM[0-9a-f]{32}/Media/ME[0-9a-f]{32}$`,
      ),
    );

    const [message] = await inboundMessages(gw);
    expect(message).toMatchObject({ text: "a photo", from: "sms:+15557654321" });
    expect(message!.media).toHaveLength(1);
    const media = message!.media[0]!;
    expect(media).toMatchObject({
      kind: "image",
      mimeType: "image/jpeg",
      size: photo.byteLength,
      sha256: sha256Hex(photo),
      url: `/media/${media.id}`,
      error: null,
    });
    const file = await gw.gw.call("GET", media.url!);
    expect(file.status).toBe(200);
    expect(sha256Hex(new Uint8Array(await file.arrayBuffer()))).toBe(sha256Hex(photo));

    const downloads = gw.fake.requests.filter((r) => r.method === "GET" && r.path.includes("/Media/"));
    expect(downloads.map((r) => [r.status, r.auth])).toEqual([
      [200, { username: gw.fake.accountSid, password: gw.fake.authToken }],
    ]);
  });

  it("downloads from no other address of this machine than the Twilio API's: another port is refused unconnected", async () => {
    const gw = await served();
    let connections = 0;
    const elsewhere = createServer((_req, res) => res.end("not for the gateway"));
    elsewhere.on("connection", () => void connections++);
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      const sent = await gw.fake.sendInbound({
        url: `${gw.publicBaseUrl}/webhooks/twilio/inbound`,
        from: "+15557654321",
        to: "+15550001111",
        body: "elsewhere",
        mediaUrls: [`http://127.0.0.1:${port}/ME1`],
      });
      expect(sent.status).toBe(200);
      const [message] = await inboundMessages(gw);
      expect(message?.text).toBe("elsewhere");
      expect(message?.media[0]).toMatchObject({ id: null, error: { code: "media.download_failed" } });
      expect(message?.media[0]?.error?.message).toMatch(/refused/);
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });

  it("records the message with the attachment's error when Twilio refuses the credentials, after its retries", async () => {
    // Another account SID: webhooks still verify (they are signed with the token), media downloads get 401.
    const wrongSid = `AC${"9".repeat(32)}`;
    const gw = await served({ TWILIO_ACCOUNT_SID: wrongSid });
    const sent = await gw.fake.sendInbound({
      url: `${gw.publicBaseUrl}/webhooks/twilio/inbound`,
      from: "+15557654321",
      to: "+15550001111",
      body: "can you see it?",
      files: [{ contentType: "image/png", bytes: mediaFixture.png() }],
    });
    expect(sent.status).toBe(200);

    const [message] = await inboundMessages(gw);
    expect(message?.text).toBe("can you see it?");
    expect(message?.media).toEqual([
      expect.objectContaining({
        id: null,
        kind: "image",
        mimeType: "image/png",
        url: null,
        error: { code: "media.download_failed", message: expect.stringMatching(/401/) as string },
      }),
    ]);
    const downloads = gw.fake.requests.filter((r) => r.method === "GET" && r.path.includes("/Media/"));
    // The intake's three attempts, each with the (wrong) credentials, each refused.
    expect(downloads.map((r) => [r.status, r.auth?.username])).toEqual([
      [401, wrongSid],
      [401, wrongSid],
      [401, wrongSid],
    ]);
  });
});
