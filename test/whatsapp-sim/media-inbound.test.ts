import { randomBytes } from "node:crypto";
import { downloadContentFromMessage, downloadMediaMessage, extractMessageContent } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { InboundMedia, WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import type { MediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { mediaFixture } from "../support/media-fixtures.ts";
import { linkedClient, startSim } from "./harness.ts";

const ALICE = "15550006101";
const CONTACT = "15550009611";

const file = (head: Buffer, size = 3000): Buffer => Buffer.concat([head, randomBytes(size)]);

async function setup(): Promise<{ sim: WhatsAppSimulator; trust: MediaTrust }> {
  const sim = await startSim();
  return { sim, trust: await mediaTrust(sim.caFile) };
}

async function post(sim: WhatsAppSimulator, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${sim.controlUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

describe("media sent by a simulated contact (POST /control/inbound)", () => {
  const cases: Array<{ media: Omit<InboundMedia, "base64">; bytes: Buffer; field: string; expected: object }> = [
    {
      media: { kind: "image", mimeType: "image/png", caption: "a picture" },
      bytes: file(mediaFixture.png(64)),
      field: "imageMessage",
      expected: { mimetype: "image/png", caption: "a picture" },
    },
    {
      media: { kind: "video", mimeType: "video/mp4", caption: "a clip", seconds: 7 },
      bytes: file(mediaFixture.mp4(64)),
      field: "videoMessage",
      expected: { mimetype: "video/mp4", caption: "a clip", seconds: 7 },
    },
    {
      media: { kind: "audio", mimeType: "audio/mpeg", seconds: 4 },
      bytes: file(Buffer.from("ID3\x04\0\0\0\0\0\0", "latin1")),
      field: "audioMessage",
      expected: { mimetype: "audio/mpeg", ptt: false, seconds: 4 },
    },
    {
      media: { kind: "voice" },
      bytes: file(mediaFixture.oggOpus(64)),
      field: "audioMessage",
      expected: { mimetype: "audio/ogg; codecs=opus", ptt: true, seconds: 1 },
    },
    {
      media: { kind: "document", mimeType: "application/pdf", filename: "invoice.pdf" },
      bytes: file(mediaFixture.pdf(64), 40_000),
      field: "documentMessage",
      expected: { mimetype: "application/pdf", fileName: "invoice.pdf" },
    },
    {
      media: { kind: "sticker" },
      bytes: file(mediaFixture.webp(64)),
      field: "stickerMessage",
      expected: { mimetype: "image/webp" },
    },
  ];

  it.each(cases)("$media.kind arrives and downloads to the same bytes", async ({ media, bytes, field, expected }) => {
    const { sim, trust } = await setup();
    const alice = await linkedClient(sim, ALICE);

    const sent = await post(sim, "/control/inbound", {
      from: CONTACT,
      to: ALICE,
      media: { ...media, base64: bytes.toString("base64") },
    });
    expect(sent.status).toBe(200);
    const { id } = sent.json as { id: string };
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound media");

    const content = (got.message as Record<string, Record<string, unknown>>)[field]!;
    expect(content).toMatchObject(expected);
    expect(Number(content.fileLength)).toBe(bytes.length);
    const downloaded = await downloadMediaMessage(got, "buffer", { options: { dispatcher: trust.dispatcher } });
    expect(downloaded.equals(bytes)).toBe(true);
    expect(sim.stats().media).toMatchObject({ phoneUploads: 1, downloads: 1 });
  });

  it("a document with a caption comes as documentWithCaptionMessage, as phones send it", async () => {
    const { sim, trust } = await setup();
    const alice = await linkedClient(sim, ALICE);
    const bytes = file(mediaFixture.pdf(64));

    // text beside media is its caption
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ALICE,
      text: "see attached",
      media: { kind: "document", mimeType: "application/pdf", filename: "a.pdf", base64: bytes.toString("base64") },
    });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound document");

    const document = got.message?.documentWithCaptionMessage?.message?.documentMessage;
    expect(document).toMatchObject({ caption: "see attached", fileName: "a.pdf" });
    const stream = await downloadContentFromMessage(extractMessageContent(got.message)!.documentMessage!, "document", {
      options: { dispatcher: trust.dispatcher },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it("a client that does not trust the simulator's CA cannot download", async () => {
    const { sim } = await setup();
    const alice = await linkedClient(sim, ALICE);
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ALICE,
      media: { kind: "image", base64: file(mediaFixture.jpeg(64)).toString("base64") },
    });
    const got: WAMessage = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound image");

    const error = (await downloadMediaMessage(got, "buffer", {}).catch((err: unknown) => err)) as Error;
    expect((error.cause as { code?: string } | undefined)?.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(sim.stats().media.downloads).toBe(0);
  });

  it("answers 400 to media it cannot send, naming the problem", async () => {
    const { sim } = await setup();
    await linkedClient(sim, ALICE);
    const base64 = file(mediaFixture.jpeg(64)).toString("base64");
    const inbound = (media: unknown, extra: object = {}) =>
      post(sim, "/control/inbound", { from: CONTACT, to: ALICE, media, ...extra });

    const refusals = await Promise.all([
      inbound({ kind: "hologram", base64 }),
      inbound({ kind: "image", base64: "not base64!" }),
      inbound({ kind: "image", base64: "" }),
      inbound({ kind: "image" }),
      inbound("image"),
      inbound({ kind: "voice", mimeType: "audio/mpeg", base64 }),
      inbound({ kind: "sticker", base64, caption: "no" }),
      inbound({ kind: "audio", base64 }, { text: "captions are for images, videos and documents" }),
      inbound({ kind: "video", base64, seconds: -1 }),
      post(sim, "/control/inbound", { from: CONTACT, to: ALICE }),
    ]);

    expect(refusals.map((r) => r.status)).toEqual(new Array(refusals.length).fill(400));
    expect(refusals.map((r) => (r.json as { error: string }).error)).toEqual([
      "media.kind must be one of image, video, audio, voice, document, sticker",
      "media.base64 is not valid base64",
      "media.base64 is empty",
      "media.base64 must be a string",
      "media must be an object {kind, mimeType?, base64, filename?, caption?}",
      "voice notes are audio/ogg; codecs=opus",
      "sticker messages have no caption",
      "audio messages have no caption",
      "media.seconds must be a whole number of seconds",
      "text or media is needed",
    ]);
    expect(sim.stats().media.phoneUploads).toBe(0);
  });

  it("takes media larger than the control API's usual 1 MiB body", async () => {
    const { sim, trust } = await setup();
    const alice = await linkedClient(sim, ALICE);
    const bytes = file(mediaFixture.mp4(64), 3 * 1024 * 1024);

    const sent = await post(sim, "/control/inbound", {
      from: CONTACT,
      to: ALICE,
      media: { kind: "video", base64: bytes.toString("base64") },
    });
    const { id } = sent.json as { id: string };
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound video");

    const downloaded = await downloadMediaMessage(got, "buffer", { options: { dispatcher: trust.dispatcher } });
    expect(downloaded.equals(bytes)).toBe(true);
  });
});
