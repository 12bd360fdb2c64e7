import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../../src/adapters/messaging/baileys/wa-message-id.ts";
import type { HeldMedia, MediaKind } from "../../../src/domain/media.ts";
import type { MediaSource, MediaStore } from "../../../src/domain/ports/media-store.port.ts";
import type { InboundMedia } from "../../../src/domain/ports/messaging-provider.port.ts";
import { chunked, mediaFixture, sha256Hex } from "../../support/media-fixtures.ts";
import { aSendingMessage } from "../../support/message-mother.ts";
import { realMedia } from "../../support/real-media.ts";
import { connect, mediaStore, openSession, startSim } from "./harness.ts";

const ME = "15550301501";
const CONTACT = "15550309501";

/** Puts `bytes` in the store and returns the attachment a message carries for it. */
async function held(
  store: MediaStore,
  kind: MediaKind,
  bytes: Uint8Array,
  details: { filename?: string; caption?: string } = {},
): Promise<HeldMedia> {
  const stored = await store.put(chunked(bytes, 1024), {
    maxBytes: 10 * 1024 * 1024,
    ...(details.filename ? { filename: details.filename } : {}),
  });
  return {
    id: stored.id,
    kind,
    mimeType: stored.mimeType,
    size: stored.size,
    sha256: stored.sha256,
    filename: stored.filename ?? null,
    caption: details.caption ?? null,
    sourceUrl: null,
    error: null,
  };
}

async function readAll(source: MediaSource): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A pino logger whose lines the test reads. */
function recordingLogger(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level: "debug" }, sink),
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("BaileysConnector: media sent", () => {
  const cases: Array<{
    name: string;
    kind: MediaKind;
    bytes: () => Promise<Buffer> | Buffer;
    text: string;
    details?: { filename?: string; caption?: string };
    arrives: Record<string, unknown>;
  }> = [
    {
      name: "a photo, its caption from the text",
      kind: "image",
      bytes: () => realMedia.png(32),
      text: "look at this",
      arrives: { kind: "image", mimeType: "image/png", caption: "look at this" },
    },
    {
      name: "a video, its caption from the attachment",
      kind: "video",
      bytes: () => mediaFixture.mp4(20_000),
      text: "",
      details: { caption: "watch" },
      arrives: { kind: "video", mimeType: "video/mp4", caption: "watch" },
    },
    {
      name: "an audio file",
      kind: "audio",
      bytes: () => realMedia.mp3(),
      text: "",
      arrives: { kind: "audio", mimeType: "audio/mpeg" },
    },
    {
      name: "a voice note (push-to-talk ogg/opus)",
      kind: "voice",
      bytes: () => realMedia.oggOpus(2),
      text: "",
      arrives: { kind: "voice", mimeType: "audio/ogg; codecs=opus" },
    },
    {
      name: "a document with its file name and a caption",
      kind: "document",
      bytes: () => mediaFixture.pdf(50_000),
      text: "the report",
      details: { filename: "report.pdf" },
      arrives: { kind: "document", mimeType: "application/pdf", filename: "report.pdf", caption: "the report" },
    },
    {
      name: "a document without a name, named after its kind and type",
      kind: "document",
      bytes: () => mediaFixture.pdf(3000),
      text: "",
      arrives: { kind: "document", mimeType: "application/pdf", filename: "document.pdf" },
    },
    {
      name: "a sticker",
      kind: "sticker",
      bytes: () => realMedia.webp(64),
      text: "",
      arrives: { kind: "sticker", mimeType: "image/webp" },
    },
  ];

  it.each(cases)("$name arrives verified, with the file's SHA-256", async ({ kind, bytes, text, details, arrives }) => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const media = mediaStore();
    const { connection } = await openSession(sim, ME, { media });
    const file = await bytes();
    const message = aSendingMessage({
      to: `whatsapp:+${CONTACT}`,
      text,
      media: [await held(media, kind, file, details)],
    });
    let written = false;

    const receipt = await connection.send(message, { written: () => (written = true) });

    expect(receipt).toEqual({ providerMessageId: deriveWaMessageId(message.id), status: "sent" });
    expect(written).toBe(true);
    const [entry] = await sim.waitForMessages(ME, 1);
    expect(entry).toMatchObject({ id: receipt.providerMessageId, to: CONTACT, kind: "media" });
    expect(entry!.mediaError).toBeUndefined();
    expect(entry!.media).toEqual({ ...arrives, size: file.length, sha256: sha256Hex(file) });
  });

  it("makes a photo's thumbnail with sharp, and sends a photo it cannot decode without one", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const media = mediaStore();
    const { logger, lines } = recordingLogger();
    const { connection } = await openSession(sim, ME, { media, logger, baileysLogLevel: "debug" });
    const good = await realMedia.png(64);
    // A PNG signature and header with nothing decodable behind them.
    const broken = mediaFixture.png(5000);

    await connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}`, media: [await held(media, "image", good)] }));
    const afterGood = lines().map((line) => line.msg);
    await connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}`, media: [await held(media, "image", broken)] }));
    const entries = await sim.waitForMessages(ME, 2);

    expect(afterGood).toContain("generated thumbnail");
    expect(afterGood).not.toContain("failed to obtain extra info");
    expect(lines().map((line) => line.msg)).toContain("failed to obtain extra info");
    expect(entries.map((e) => e.media?.sha256)).toEqual([sha256Hex(good), sha256Hex(broken)]);
  });

  it("a failed upload is retryable, and the retry arrives once under the same id", async () => {
    const sim = await startSim({ receipts: { delivery: false, read: false } });
    const media = mediaStore();
    const { connection } = await openSession(sim, ME, { media });
    const message = aSendingMessage({
      to: `whatsapp:+${CONTACT}`,
      text: "second time lucky",
      media: [await held(media, "document", mediaFixture.pdf(8000), { filename: "a.pdf" })],
    });
    sim.mediaFault("upload-error");
    let written = false;

    await expect(connection.send(message, { written: () => (written = true) })).rejects.toMatchObject({
      providerId: "baileys",
      retryable: true,
    });
    expect(written).toBe(false);
    expect(sim.messages(ME)).toEqual([]);

    const receipt = await connection.send(message);
    await connection.send(message);

    expect(receipt.providerMessageId).toBe(deriveWaMessageId(message.id));
    // The simulator acks before it has verified (and recorded) the media.
    await expect
      .poll(() => sim.stats().accounts[ME])
      .toMatchObject({ messagesReceived: 2, uniqueIds: 1, duplicates: 1 });
    expect(sim.messages(ME)[0]).toMatchObject({ media: { filename: "a.pdf", caption: "second time lucky" } });
  });

  it("a file that left the store fails the send for good (media-not-found), sending nothing", async () => {
    const sim = await startSim();
    const media = mediaStore();
    const { connection } = await openSession(sim, ME, { media });
    const attachment = await held(media, "image", await realMedia.jpeg());
    await media.delete(attachment.id);

    await expect(
      connection.send(aSendingMessage({ to: `whatsapp:+${CONTACT}`, media: [attachment] })),
    ).rejects.toMatchObject({ providerId: "baileys", retryable: false, providerCode: "media-not-found" });
    expect(sim.messages(ME)).toEqual([]);
    expect(sim.stats().media.uploads).toBe(0);
  });
});

describe("BaileysConnector: media received", () => {
  const cases: Array<{
    kind: MediaKind;
    bytes: () => Promise<Buffer> | Buffer;
    sent: { mimeType?: string; filename?: string; caption?: string };
    reported: Partial<InboundMedia>;
  }> = [
    {
      kind: "image",
      bytes: () => realMedia.jpeg(),
      sent: { caption: "a picture" },
      reported: { kind: "image", mimeType: "image/jpeg", caption: "a picture" },
    },
    {
      kind: "video",
      bytes: () => mediaFixture.mp4(30_000),
      sent: { caption: "a clip" },
      reported: { kind: "video", mimeType: "video/mp4", caption: "a clip" },
    },
    {
      kind: "audio",
      bytes: () => realMedia.mp3(),
      sent: { mimeType: "audio/mpeg" },
      reported: { kind: "audio", mimeType: "audio/mpeg" },
    },
    {
      kind: "voice",
      bytes: () => realMedia.oggOpus(),
      sent: {},
      reported: { kind: "voice", mimeType: "audio/ogg; codecs=opus" },
    },
    {
      kind: "document",
      bytes: () => mediaFixture.pdf(70_000),
      sent: { mimeType: "application/pdf", filename: "invoice.pdf", caption: "see attached" },
      reported: { kind: "document", mimeType: "application/pdf", filename: "invoice.pdf", caption: "see attached" },
    },
    {
      kind: "sticker",
      bytes: () => realMedia.webp(),
      sent: {},
      reported: { kind: "sticker", mimeType: "image/webp" },
    },
  ];

  it.each(cases)(
    "a $kind comes as InboundMedia that opens to the same bytes",
    async ({ kind, bytes, sent, reported }) => {
      const sim = await startSim();
      const { events } = await openSession(sim, ME);
      const file = await bytes();

      const { id } = await sim.inbound({
        from: CONTACT,
        to: ME,
        media: { kind, base64: file.toString("base64"), ...sent },
      });
      const { message } = await events.waitFor("inbound", (e) => e.message.providerMessageId === id);

      expect(message).toMatchObject({ from: `whatsapp:+${CONTACT}`, text: sent.caption ?? "" });
      expect(message.media).toHaveLength(1);
      const [media] = message.media;
      expect(media).toMatchObject(reported);
      if (kind !== "document") expect(media!.filename).toBeUndefined();
      expect((await readAll(await media!.open(1))).equals(file)).toBe(true);
    },
  );

  it("an expired file is uploaded again by the phone on the next attempt, through the session's newest socket", async () => {
    const sim = await startSim();
    const { connection, events, connector } = await openSession(sim, ME);
    const file = await realMedia.jpeg(24);
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ME,
      media: { kind: "image", base64: file.toString("base64") },
    });
    const { message } = await events.waitFor("inbound", (e) => e.message.providerMessageId === id);
    const [media] = message.media;
    expect(sim.expireMedia(sha256Hex(file))).toEqual({ expired: 1 });
    // The socket that received the message is gone; a new one of the same login asks the phone.
    connection.end();
    const next = await connect(connector, "main");
    await next.events.waitFor("open");

    await expect(media!.open(1)).rejects.toMatchObject({ providerId: "baileys", retryable: true, providerCode: "410" });
    const again = await readAll(await media!.open(2));

    expect(again.equals(file)).toBe(true);
    expect(sim.stats().media).toMatchObject({ reuploads: 1 });
  });

  it("without an open socket, the re-upload attempt fails as retryable (not-open)", async () => {
    const sim = await startSim();
    const { connection, events } = await openSession(sim, ME);
    const file = mediaFixture.pdf(2000);
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ME,
      media: { kind: "document", base64: file.toString("base64"), filename: "later.pdf" },
    });
    const { message } = await events.waitFor("inbound", (e) => e.message.providerMessageId === id);
    sim.expireMedia();
    connection.end();

    await expect(message.media[0]!.open(1)).rejects.toMatchObject({ retryable: true, providerCode: "410" });
    await expect(message.media[0]!.open(2)).rejects.toMatchObject({ retryable: true, providerCode: "not-open" });
    expect(sim.stats().media.reuploads).toBe(0);
  });
});
