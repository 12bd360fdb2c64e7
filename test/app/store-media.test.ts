import { describe, expect, it } from "vitest";
import { defaultMediaLimits } from "../../src/domain/media.ts";
import { StoreMedia } from "../../src/app/use-cases/store-media.ts";
import { MemoryMediaStore } from "../fakes/memory-media-store.ts";
import { chunked, mediaFixture } from "../support/media-fixtures.ts";

const limits = { ...defaultMediaLimits, image: 10_000, sticker: 2_000, document: 50_000 };

function setup() {
  const store = new MemoryMediaStore();
  return { store, storeMedia: new StoreMedia(store, limits) };
}

describe("StoreMedia", () => {
  it("infers the kind from the bytes when neither a kind nor a media type is declared", async () => {
    const { storeMedia } = setup();
    const png = await storeMedia.execute({ source: chunked(mediaFixture.png(3000)) });
    expect(png).toMatchObject({ kind: "image", mimeType: "image/png", size: 3000, filename: null });
    const webp = await storeMedia.execute({
      source: chunked(mediaFixture.webp(1000)),
      declaredType: "application/octet-stream",
    });
    expect(webp.kind).toBe("sticker");
    const pdf = await storeMedia.execute({ source: chunked(mediaFixture.pdf(3000)), filename: "../x/a.pdf" });
    expect(pdf).toMatchObject({ kind: "document", filename: "a.pdf" });
  });

  it("holds a file to the kind its declared type names", async () => {
    const { store, storeMedia } = setup();
    await expect(
      storeMedia.execute({ source: chunked(mediaFixture.exe(3000)), declaredType: "image/jpeg" }),
    ).rejects.toMatchObject({ code: "MEDIA.UNSUPPORTED_TYPE" });
    // The client's kind wins over its declared type.
    const doc = await storeMedia.execute({
      source: chunked(mediaFixture.exe(3000)),
      kind: "document",
      declaredType: "image/jpeg",
    });
    expect(doc.kind).toBe("document");
    expect(store.blobCount).toBe(1);
  });

  it("refuses an announced size over the limit before reading, and cancels the body", async () => {
    const { store, storeMedia } = setup();
    let cancelled = false;
    let pulled = false;
    const source = new ReadableStream<Uint8Array>({
      pull: () => void (pulled = true),
      cancel: () => void (cancelled = true),
    });
    await expect(storeMedia.execute({ source, kind: "image", declaredSize: 10_001 })).rejects.toMatchObject({
      code: "MEDIA.TOO_LARGE",
      message: "the file exceeds the limit for image files of 10000 bytes",
    });
    expect(cancelled).toBe(true);
    expect(pulled).toBe(false);
    // A kind not known yet may be as large as the largest limit.
    expect(storeMedia.limitFor(undefined)).toBe(Math.max(...Object.values(limits)));
    expect(store.blobCount).toBe(0);
  });

  it("names the inferred kind's limit when an unannounced file passes it", async () => {
    const { storeMedia } = setup();
    await expect(storeMedia.execute({ source: chunked(mediaFixture.webp(5000), 1000) })).rejects.toMatchObject({
      code: "MEDIA.TOO_LARGE",
      message: "the file exceeds the limit for sticker files of 2000 bytes",
    });
  });

  it("keeps no empty file", async () => {
    const { store, storeMedia } = setup();
    await expect(storeMedia.execute({ source: chunked(new Uint8Array(0)) })).rejects.toMatchObject({
      code: "REQUEST.INVALID",
    });
    expect(store.blobCount).toBe(0);
  });
});
