import { randomBytes } from "node:crypto";
import { downloadMediaMessage, proto } from "@whiskeysockets/baileys";
import type { WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import type { MediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550006201";
const CONTACT = "15550009621";

/**
 * `host` matters after updateMediaMessage: Baileys rebuilds the url from the
 * socket's media host, which stays WhatsApp's public host until that socket
 * has fetched media_conn (a socket that never uploaded has not).
 */
const download = (message: WAMessage, trust: MediaTrust, host: string): Promise<Buffer> =>
  downloadMediaMessage(message, "buffer", { host, options: { dispatcher: trust.dispatcher } });

/** The HTTP status of a failed download (Baileys throws a Boom). */
const statusOf = (err: unknown): number | undefined => (err as { output?: { statusCode?: number } }).output?.statusCode;

describe("expired media and re-upload (updateMediaMessage)", () => {
  it("a contact's media: expired downloads get 410, the phone uploads it again, the download works", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE);
    const bytes = Buffer.concat([mediaFixture.jpeg(64), randomBytes(4000)]);
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ALICE,
      media: { kind: "image", base64: bytes.toString("base64"), caption: "old" },
    });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound image");
    const oldPath = got.message!.imageMessage!.directPath;

    const expired = await fetch(`${sim.controlUrl}/control/media/expire`, {
      method: "POST",
      body: JSON.stringify({ sha256: sha256Hex(bytes) }),
    });
    expect(await expired.json()).toEqual({ expired: 1 });
    expect(statusOf(await download(got, trust, sim.mediaHost).catch((err: unknown) => err))).toBe(410);

    const updated = await alice.sock!.updateMediaMessage(got);

    expect(updated.message!.imageMessage!.directPath).not.toBe(oldPath);
    expect((await download(updated, trust, sim.mediaHost)).equals(bytes)).toBe(true);
    expect(sim.stats().media).toMatchObject({ reuploads: 1, downloads: 1, downloadsRefused: 1 });
  });

  it("media the account sent itself is uploaded again by its own phone", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
    const bytes = Buffer.concat([mediaFixture.pdf(64), randomBytes(9000)]);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), {
      document: bytes,
      mimetype: "application/pdf",
      fileName: "mine.pdf",
    });
    await sim.waitForMessages(ALICE, 1);
    expect(sim.expireMedia()).toEqual({ expired: 1 });
    expect(statusOf(await download(sent!, trust, sim.mediaHost).catch((err: unknown) => err))).toBe(410);

    const updated = await alice.sock!.updateMediaMessage(sent!);

    expect((await download(updated, trust, sim.mediaHost)).equals(bytes)).toBe(true);
  });

  it("expire with a hash leaves other media alone", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE);
    const one = randomBytes(2000);
    const two = randomBytes(2000);
    const received: WAMessage[] = [];
    for (const bytes of [one, two]) {
      const { id } = await sim.inbound({
        from: CONTACT,
        to: ALICE,
        media: { kind: "sticker", base64: bytes.toString("base64") },
      });
      received.push(await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "sticker"));
    }

    expect(sim.expireMedia(sha256Hex(one))).toEqual({ expired: 1 });

    expect(statusOf(await download(received[0]!, trust, sim.mediaHost).catch((err: unknown) => err))).toBe(410);
    expect((await download(received[1]!, trust, sim.mediaHost)).equals(two)).toBe(true);
  });

  it("a re-upload request for media the phone never had fails with 404", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const unknown: WAMessage = {
      key: { id: "3EB0UNKNOWNMEDIA", remoteJid: jid(CONTACT), fromMe: false },
      message: {
        imageMessage: proto.Message.ImageMessage.fromObject({ mediaKey: randomBytes(32), directPath: "/v/x" }),
      },
    };

    const error = await alice.sock!.updateMediaMessage(unknown).catch((err: unknown) => err);

    expect(statusOf(error)).toBe(404);
  });

  it("a re-upload request sealed under another key is refused: nothing is uploaded again", async () => {
    const sim = await startSim();
    const alice = await linkedClient(sim, ALICE);
    const { id } = await sim.inbound({
      from: CONTACT,
      to: ALICE,
      media: { kind: "image", base64: randomBytes(1000).toString("base64") },
    });
    const got = await alice.waitFor(() => alice.received.find((m) => m.key.id === id), "inbound image");
    // Same message id, wrong media key: the phone cannot open the request.
    const forged = structuredClone(got);
    forged.message!.imageMessage!.mediaKey = randomBytes(32);

    const error = await alice.sock!.updateMediaMessage(forged).catch((err: unknown) => err);

    // The phone answers DECRYPTION_ERROR sealed under the real key, which the forger cannot open either.
    expect(error).toBeInstanceOf(Error);
    expect(sim.stats().media.reuploads).toBe(0);
  });

  it("checks expire's sha256", async () => {
    const sim = await startSim();
    const res = await fetch(`${sim.controlUrl}/control/media/expire`, {
      method: "POST",
      body: JSON.stringify({ sha256: "abc" }),
    });

    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "sha256 must be the hex SHA-256 of the file" });
  });
});
