import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { mediaFixture, sha256Hex } from "../support/media-fixtures.ts";
import { jid, linkedClient, startSim } from "./harness.ts";

const ALICE = "15550006001";
const CONTACT = "15550009601";

describe("media sent by Baileys", () => {
  it("an image is uploaded, decrypted and verified", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
    const image = Buffer.concat([mediaFixture.png(64), randomBytes(5000)]);

    const sent = await alice.sock!.sendMessage(jid(CONTACT), { image, caption: "look", mimetype: "image/png" });
    const [entry] = await sim.waitForMessages(ALICE, 1);

    expect(entry).toMatchObject({ id: sent!.key.id, kind: "media", text: "look" });
    expect(entry!.media).toEqual({
      kind: "image",
      mimeType: "image/png",
      size: image.length,
      sha256: sha256Hex(image),
      caption: "look",
    });
  });
});
