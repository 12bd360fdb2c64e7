import { randomBytes } from "node:crypto";
import type { AnyMessageContent } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550006001";
const CONTACT = "15550009601";

/** A file with a real magic header and random bytes behind it (the simulator treats bytes opaquely). */
const file = (head: Buffer, size = 3000): Buffer => Buffer.concat([head, randomBytes(size)]);

async function aliceWithMedia(sim: WhatsAppSimulator) {
  const trust = await mediaTrust(sim.caFile);
  return linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
}

describe("media sent by Baileys, verified by the simulator", () => {
  const cases: Array<{ name: string; bytes: Buffer; content: (b: Buffer) => AnyMessageContent; media: object }> = [
    {
      name: "image",
      bytes: file(mediaFixture.png(64)),
      content: (image) => ({ image, caption: "look", mimetype: "image/png" }),
      media: { kind: "image", mimeType: "image/png", caption: "look" },
    },
    {
      name: "video",
      bytes: file(mediaFixture.mp4(64)),
      content: (video) => ({ video, caption: "watch", mimetype: "video/mp4" }),
      media: { kind: "video", mimeType: "video/mp4", caption: "watch" },
    },
    {
      name: "audio",
      bytes: file(Buffer.from("ID3\x04\0\0\0\0\0\0", "latin1")),
      content: (audio) => ({ audio, mimetype: "audio/mpeg", seconds: 3 }),
      media: { kind: "audio", mimeType: "audio/mpeg" },
    },
    {
      name: "voice note",
      bytes: file(mediaFixture.oggOpus(64)),
      content: (audio) => ({ audio, ptt: true, mimetype: "audio/ogg; codecs=opus", seconds: 2 }),
      media: { kind: "voice", mimeType: "audio/ogg; codecs=opus" },
    },
    {
      name: "document",
      bytes: file(mediaFixture.pdf(64), 20_000),
      content: (document) => ({
        document,
        fileName: "report.pdf",
        mimetype: "application/pdf",
        caption: "the report",
      }),
      media: { kind: "document", mimeType: "application/pdf", filename: "report.pdf", caption: "the report" },
    },
    {
      name: "sticker",
      bytes: file(mediaFixture.webp(64)),
      content: (sticker) => ({ sticker }),
      media: { kind: "sticker", mimeType: "image/webp" },
    },
  ];

  it.each(cases)("$name: decrypted bytes hash to what was sent", async ({ bytes, content, media }) => {
    const sim = await startSim();
    const alice = await aliceWithMedia(sim);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), content(bytes));
    const [entry] = await sim.waitForMessages(ALICE, 1);

    expect(entry).toMatchObject({ id: sent!.key.id, kind: "media", to: CONTACT });
    expect(entry!.mediaError).toBeUndefined();
    expect(entry!.media).toEqual({ ...media, size: bytes.length, sha256: sha256Hex(bytes) });
  });

  it("a text message stays kind text, without media", async () => {
    const sim = await startSim();
    const alice = await aliceWithMedia(sim);

    await alice.sock!.sendMessage(jid(CONTACT), { text: "just words" });
    const [entry] = await sim.waitForMessages(ALICE, 1);

    expect(entry).toMatchObject({ kind: "text", text: "just words" });
    expect(entry).not.toHaveProperty("media");
  });

  it("an upload tampered on the server is recorded with mediaError, not media", async () => {
    const sim = await startSim();
    const alice = await aliceWithMedia(sim);
    const fault = await fetch(`${sim.controlUrl}/control/media/fault`, {
      method: "POST",
      body: JSON.stringify({ kind: "tamper" }),
    });
    expect(await fault.json()).toEqual({ pending: 1 });

    await alice.sock!.sendMessage(jid(CONTACT), { image: file(mediaFixture.jpeg(64)), caption: "spoiled" });
    await alice.sock!.sendMessage(jid(CONTACT), { image: file(mediaFixture.jpeg(64)), caption: "fine" });
    const [spoiled, fine] = await sim.waitForMessages(ALICE, 2);

    expect(spoiled).toMatchObject({ kind: "media", mediaError: "fileEncSha256 mismatch", text: "spoiled" });
    expect(spoiled).not.toHaveProperty("media");
    expect(fine).toMatchObject({ kind: "media", media: { kind: "image", caption: "fine" } });
    expect(sim.stats().media).toMatchObject({ verified: 1, verifyFailures: 1 });
  });

  it("a scripted upload error makes the send fail, and nothing reaches the contact", async () => {
    const sim = await startSim();
    const alice = await aliceWithMedia(sim);
    // Baileys tries each media_conn host once: one host, one refusal.
    expect(sim.mediaFault("upload-error")).toEqual({ pending: 1 });
    const document = (caption: string) => ({
      document: file(mediaFixture.pdf(64)),
      fileName: "a.pdf",
      mimetype: "application/pdf",
      caption,
    });

    await expect(alice.sock!.sendMessage(jid(CONTACT), document("refused"))).rejects.toThrow(/upload failed/i);
    await alice.sock!.sendMessage(jid(CONTACT), document("accepted"));
    const entries = await sim.waitForMessages(ALICE, 1);

    expect(entries.map((e) => e.text)).toEqual(["accepted"]);
    expect(sim.stats().media).toMatchObject({ uploads: 1, uploadsRefused: 1, verified: 1 });
  });

  it("counts uploads and their bytes in /control/stats", async () => {
    const sim = await startSim();
    const alice = await aliceWithMedia(sim);
    const bytes = file(mediaFixture.jpeg(64), 10_000);

    await alice.sock!.sendMessage(jid(CONTACT), { image: bytes });
    await sim.waitForMessages(ALICE, 1);
    const stats = (await (await fetch(`${sim.controlUrl}/control/stats`)).json()) as { media: Record<string, number> };

    // Encrypted size: the plaintext padded to a 16-byte block, plus the 10-byte MAC.
    const encrypted = (Math.floor(bytes.length / 16) + 1) * 16 + 10;
    expect(stats.media).toMatchObject({ uploads: 1, uploadBytes: encrypted, verified: 1, verifyFailures: 0 });
  });
});
