import { proto } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { addressToJid, jidToAddress } from "../../../src/adapters/messaging/baileys/addresses.ts";
import { toConnectionClosed } from "../../../src/adapters/messaging/baileys/disconnect-mapping.ts";
import { toInboundMessage, type InboundContext } from "../../../src/adapters/messaging/baileys/inbound-mapping.ts";
import { defaultFilename } from "../../../src/adapters/messaging/baileys/outbound-content.ts";
import { toProviderError } from "../../../src/adapters/messaging/baileys/send-errors.ts";
import { toProviderStatus } from "../../../src/adapters/messaging/baileys/status-mapping.ts";
import { deriveWaMessageId } from "../../../src/adapters/messaging/baileys/wa-message-id.ts";

const context = (lids: Record<string, string> = {}): InboundContext => ({
  to: "whatsapp:+15550001111",
  pnForLid: async (lid) => lids[lid] ?? null,
  lidForPn: async () => null,
  now: () => new Date(0),
  downloads: {
    idleTimeoutMs: 1_000,
    reupload: () => Promise.reject(new Error("no phone in a mapping test")),
  },
});

function waMessage(key: WAMessage["key"], message: proto.IMessage | null, extra: Partial<WAMessage> = {}): WAMessage {
  return { key, message, messageTimestamp: 1_800_000_000, ...extra };
}

describe("deriveWaMessageId", () => {
  it("is deterministic, shaped like Baileys' ids, and differs per message", () => {
    const id = deriveWaMessageId("0190b2c4-message-1");

    expect(id).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(deriveWaMessageId("0190b2c4-message-1")).toBe(id);
    expect(deriveWaMessageId("0190b2c4-message-2")).not.toBe(id);
  });
});

describe("addresses", () => {
  it("maps whatsapp:+E164 to a user jid and back", () => {
    expect(addressToJid("whatsapp:+15550001234")).toBe("15550001234@s.whatsapp.net");
    expect(addressToJid("+15550001234")).toBe("15550001234@s.whatsapp.net");
    expect(addressToJid("sms:+15550001234")).toBeUndefined();
    expect(addressToJid("whatsapp:15550001234")).toBeUndefined();
    expect(addressToJid("whatsapp:+0123")).toBeUndefined();
    expect(jidToAddress("15550001234:7@s.whatsapp.net")).toBe("whatsapp:+15550001234");
    expect(jidToAddress("123456789012345@lid")).toBeUndefined();
    expect(jidToAddress("1203630@g.us")).toBeUndefined();
  });
});

describe("toConnectionClosed", () => {
  const boom = (message: string, statusCode: number): Error =>
    Object.assign(new Error(message), { output: { statusCode } });

  it("takes the Boom status code and message, 428 (connection closed) without one", () => {
    expect(toConnectionClosed({ error: boom("Stream Errored (conflict)", 440) })).toEqual({
      reason: "replaced",
      code: 440,
      message: "Stream Errored (conflict)",
    });
    expect(toConnectionClosed({ error: new Error("socket hang up") })).toEqual({
      reason: "connection_closed",
      code: 428,
      message: "socket hang up",
    });
    expect(toConnectionClosed(undefined)).toEqual({
      reason: "connection_closed",
      code: 428,
      message: "connection closed",
    });
  });

  it.each([
    [515, "restart_required"],
    [401, "logged_out"],
    [440, "replaced"],
    [428, "connection_closed"],
    [408, "timed_out"],
    [500, "bad_session"],
    [403, "forbidden"],
    [405, "outdated_client"],
    [411, "multidevice_mismatch"],
    [503, "unavailable"],
    [499, "unknown"],
    [400, "unknown"],
  ])("names the code %i %s", (code, reason) => {
    expect(toConnectionClosed({ error: boom("Stream Errored", code) })).toEqual({
      reason,
      code,
      message: "Stream Errored",
    });
  });

  it("tells QR exhaustion from a keep-alive timeout and other timeouts, all 408", () => {
    expect(toConnectionClosed({ error: boom("QR refs attempts ended", 408) }).reason).toBe("qr_exhausted");
    expect(toConnectionClosed({ error: boom("Connection was lost", 408) }).reason).toBe("connection_lost");
    expect(toConnectionClosed({ error: boom("WebSocket Error (connect ECONNREFUSED)", 408) }).reason).toBe("timed_out");
  });
});

describe("toProviderStatus", () => {
  it("maps acks and receipts forward, failed for a negative ack", () => {
    const { ERROR, PENDING, SERVER_ACK, DELIVERY_ACK, READ, PLAYED } = proto.WebMessageInfo.Status;
    expect([SERVER_ACK, DELIVERY_ACK, READ, PLAYED, ERROR, PENDING, undefined].map(toProviderStatus)).toEqual([
      "sent",
      "delivered",
      "read",
      "read",
      "failed",
      undefined,
      undefined,
    ]);
  });
});

describe("toProviderError", () => {
  const boom = (statusCode: number): Error =>
    Object.assign(new Error(`boom ${statusCode}`), { output: { statusCode } });

  it("retries connection and server failures, not message rejections", () => {
    const errors = [428, 408, 440, 500, 503, 400, 403, 463].map((code) => toProviderError(boom(code)));

    expect(errors.map((e) => [e.providerCode, e.retryable])).toEqual([
      ["428", true],
      ["408", true],
      ["440", true],
      ["500", true],
      ["503", true],
      ["400", false],
      ["403", false],
      ["463", false],
    ]);
    expect(errors[0]).toMatchObject({ providerId: "baileys", message: "boom 428" });
    expect(toProviderError(new Error("socket hang up")).retryable).toBe(true);
  });
});

describe("toInboundMessage", () => {
  it("maps a 1:1 text from a phone-number jid", async () => {
    const mapped = await toInboundMessage(
      waMessage({ remoteJid: "15550002222@s.whatsapp.net", fromMe: false, id: "AB12" }, { conversation: "hi" }),
      context(),
    );

    expect(mapped).toEqual({
      kind: "message",
      message: {
        providerMessageId: "AB12",
        from: "whatsapp:+15550002222",
        to: "whatsapp:+15550001111",
        text: "hi",
        media: [],
        at: new Date(1_800_000_000_000),
      },
      chat: { pnJid: "15550002222@s.whatsapp.net" },
    });
  });

  it("resolves a LID sender from remoteJidAlt, else from the lid-mapping store", async () => {
    const viaAlt = await toInboundMessage(
      waMessage(
        { remoteJid: "111111111111111@lid", remoteJidAlt: "15550003333@s.whatsapp.net", fromMe: false, id: "L1" },
        { conversation: "a" },
      ),
      context(),
    );
    const viaStore = await toInboundMessage(
      waMessage({ remoteJid: "222222222222222@lid", fromMe: false, id: "L2" }, { extendedTextMessage: { text: "b" } }),
      context({ "222222222222222@lid": "15550004444:0@s.whatsapp.net" }),
    );
    const unknown = await toInboundMessage(
      waMessage({ remoteJid: "333333333333333@lid", fromMe: false, id: "L3" }, { conversation: "c" }),
      context(),
    );

    expect(viaAlt).toMatchObject({ kind: "message", message: { from: "whatsapp:+15550003333", text: "a" } });
    expect(viaStore).toMatchObject({ kind: "message", message: { from: "whatsapp:+15550004444", text: "b" } });
    expect(unknown.kind).toBe("skipped");
  });

  it("reads text inside an ephemeral wrapper", async () => {
    const mapped = await toInboundMessage(
      waMessage(
        { remoteJid: "15550002222@s.whatsapp.net", fromMe: false, id: "E1" },
        { ephemeralMessage: { message: { conversation: "poof" } } },
      ),
      context(),
    );

    expect(mapped).toMatchObject({ kind: "message", message: { text: "poof" } });
  });

  it("skips our own, group stub, status, other protocol and undecryptable messages", async () => {
    const cases: WAMessage[] = [
      waMessage({ remoteJid: "15550002222@s.whatsapp.net", fromMe: true, id: "S1" }, { conversation: "mine" }),
      waMessage(
        { remoteJid: "120363000000000000@g.us", participant: "15550002222@s.whatsapp.net", fromMe: false, id: "S2" },
        null,
        { messageStubType: 20 },
      ),
      waMessage(
        { remoteJid: "status@broadcast", participant: "15550002222@s.whatsapp.net", fromMe: false, id: "S3" },
        { conversation: "story" },
      ),
      waMessage(
        { remoteJid: "15550002222@s.whatsapp.net", fromMe: false, id: "S4" },
        { protocolMessage: { type: proto.Message.ProtocolMessage.Type.EPHEMERAL_SETTING } },
      ),
      // A delete that names no message.
      waMessage({ remoteJid: "15550002222@s.whatsapp.net", fromMe: false, id: "S5" }, { protocolMessage: { type: 0 } }),
      waMessage({ remoteJid: "15550002222@s.whatsapp.net", fromMe: false, id: "S6" }, null, { messageStubType: 2 }),
    ];

    const mapped = await Promise.all(cases.map((message) => toInboundMessage(message, context())));

    expect(mapped.map((m) => m.kind)).toEqual(["skipped", "skipped", "skipped", "skipped", "skipped", "skipped"]);
  });
});

describe("toInboundMessage: files", () => {
  const from = { remoteJid: "15550002222@s.whatsapp.net", fromMe: false };
  const file = { url: "https://127.0.0.1:1/f", directPath: "/f", mediaKey: new Uint8Array(32) };

  it("maps every kind of file, its caption as the text, inside wrappers", async () => {
    const messages: WAMessage[] = [
      waMessage({ ...from, id: "F1" }, { imageMessage: { ...file, mimetype: "image/jpeg", caption: "pic" } }),
      waMessage({ ...from, id: "F2" }, { videoMessage: { ...file, mimetype: "video/mp4" } }),
      waMessage({ ...from, id: "F3" }, { audioMessage: { ...file, mimetype: "audio/mpeg", ptt: false } }),
      waMessage({ ...from, id: "F4" }, { audioMessage: { ...file, mimetype: "audio/ogg; codecs=opus", ptt: true } }),
      waMessage(
        { ...from, id: "F5" },
        {
          documentWithCaptionMessage: {
            message: { documentMessage: { ...file, mimetype: "application/pdf", fileName: "a.pdf", caption: "doc" } },
          },
        },
      ),
      waMessage({ ...from, id: "F6" }, { stickerMessage: { ...file, mimetype: "image/webp" } }),
      waMessage(
        { ...from, id: "F7" },
        { ephemeralMessage: { message: { imageMessage: { ...file, mimetype: "image/png" } } } },
      ),
    ];

    const mapped = await Promise.all(messages.map((message) => toInboundMessage(message, context())));

    const summary = mapped.map((m) => {
      if (m.kind !== "message") return m;
      const [media] = m.message.media;
      return { text: m.message.text, kind: media?.kind, mimeType: media?.mimeType, filename: media?.filename };
    });
    expect(summary).toEqual([
      { text: "pic", kind: "image", mimeType: "image/jpeg", filename: undefined },
      { text: "", kind: "video", mimeType: "video/mp4", filename: undefined },
      { text: "", kind: "audio", mimeType: "audio/mpeg", filename: undefined },
      { text: "", kind: "voice", mimeType: "audio/ogg; codecs=opus", filename: undefined },
      { text: "doc", kind: "document", mimeType: "application/pdf", filename: "a.pdf" },
      { text: "", kind: "sticker", mimeType: "image/webp", filename: undefined },
      { text: "", kind: "image", mimeType: "image/png", filename: undefined },
    ]);
  });

  it("a file without a key or location fails to open for good", async () => {
    const mapped = await toInboundMessage(
      waMessage({ ...from, id: "F8" }, { imageMessage: { mimetype: "image/jpeg" } }),
      context(),
    );

    expect(mapped.kind).toBe("message");
    const media = mapped.kind === "message" ? mapped.message.media[0] : undefined;
    await expect(media!.open(1)).rejects.toMatchObject({ retryable: false, providerCode: "media-unavailable" });
  });
});

describe("defaultFilename", () => {
  it("names a document after its kind and an extension for its type", () => {
    expect(
      [
        "application/pdf",
        "image/jpeg",
        "text/plain",
        "application/x-tar",
        "application/vnd.weird+xml",
        "text/csv; charset=utf-8",
      ].map((type) => defaultFilename("document", type)),
    ).toEqual(["document.pdf", "document.jpg", "document.txt", "document.tar", "document.bin", "document.csv"]);
  });
});
