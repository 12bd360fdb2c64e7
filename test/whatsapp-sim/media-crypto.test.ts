import { createHash, createHmac, randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getMediaKeys } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import { encryptMedia, expandMediaKey, MAC_LENGTH, verifyBlob } from "../fakes/whatsapp/media-crypto.ts";
import type { MediaClaims, MediaKeyFamily } from "../fakes/whatsapp/media-crypto.ts";
import { tempDir } from "./harness.ts";

const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();

/** A blob on disk and the claims its message would carry. */
async function stored(plain: Buffer, family: MediaKeyFamily = "Document") {
  const encrypted = encryptMedia(plain, family);
  const file = join(await tempDir(), "blob.enc");
  await writeFile(file, encrypted.blob);
  const claims: MediaClaims = {
    mediaKey: encrypted.mediaKey,
    fileSha256: encrypted.fileSha256,
    fileEncSha256: encrypted.fileEncSha256,
    fileLength: plain.length,
  };
  return { encrypted, file, claims };
}

describe("the simulator's media crypto", () => {
  it.each(["Image", "Video", "Audio", "Document"] as const)(
    "expands a media key as WhatsApp does (%s keys, checked against Baileys)",
    async (family) => {
      const mediaKey = randomBytes(32);
      const ours = expandMediaKey(mediaKey, family);
      const kind = ({ Image: "image", Video: "video", Audio: "audio", Document: "document" } as const)[family];
      const theirs = await getMediaKeys(mediaKey, kind);

      expect(ours.iv.equals(Buffer.from(theirs.iv!))).toBe(true);
      expect(ours.cipherKey.equals(Buffer.from(theirs.cipherKey!))).toBe(true);
      expect(ours.macKey.equals(Buffer.from(theirs.macKey!))).toBe(true);
      expect(ours.refKey.length).toBe(32);
    },
  );

  it("verifies a blob it encrypted, across read chunks, and reports the plaintext's hash and size", async () => {
    const plain = randomBytes(3 * 1024 * 1024 + 7);
    const { file, claims } = await stored(plain);

    expect(await verifyBlob(file, "Document", claims)).toEqual({
      ok: true,
      sha256: sha256(plain).toString("hex"),
      size: plain.length,
    });
  });

  it("finds each lie in order: blob hash, MAC, plaintext hash, length", async () => {
    const plain = randomBytes(5000);
    const { encrypted, file, claims } = await stored(plain);
    // A blob whose MAC was altered, with a blob hash that matches it: only the MAC check can tell.
    const badMac = Buffer.from(encrypted.blob);
    badMac[badMac.length - 1]! ^= 1;
    const badMacFile = join(await tempDir(), "bad-mac.enc");
    await writeFile(badMacFile, badMac);

    const results = await Promise.all([
      verifyBlob(file, "Document", { ...claims, fileEncSha256: sha256(Buffer.from("other")) }),
      verifyBlob(badMacFile, "Document", { ...claims, fileEncSha256: sha256(badMac) }),
      verifyBlob(file, "Image", claims),
      verifyBlob(file, "Document", { ...claims, fileSha256: sha256(Buffer.from("other")) }),
      verifyBlob(file, "Document", { ...claims, fileLength: plain.length + 1 }),
    ]);

    expect(results.map((r) => (r.ok ? "ok" : r.reason))).toEqual([
      "fileEncSha256 mismatch",
      "mac mismatch",
      "mac mismatch",
      "fileSha256 mismatch",
      `fileLength mismatch: ${plain.length + 1} != ${plain.length}`,
    ]);
  });

  it("reports a blob that authenticates but does not decrypt", async () => {
    // Ciphertext of a length no CBC decryption accepts, with a valid MAC over it.
    const mediaKey = randomBytes(32);
    const { iv, macKey } = expandMediaKey(mediaKey, "Image");
    const ciphertext = randomBytes(40);
    const mac = createHmac("sha256", macKey).update(iv).update(ciphertext).digest().subarray(0, MAC_LENGTH);
    const blob = Buffer.concat([ciphertext, mac]);
    const file = join(await tempDir(), "odd.enc");
    await writeFile(file, blob);

    const result = await verifyBlob(file, "Image", {
      mediaKey,
      fileEncSha256: sha256(blob),
      fileSha256: sha256(Buffer.alloc(0)),
      fileLength: 0,
    });

    expect(result.ok ? "ok" : result.reason).toMatch(/^decryption failed/);
  });
});
