import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import type { Clock } from "../../src/domain/ports/clock.port.ts";
import type { MediaStore } from "../../src/domain/ports/media-store.port.ts";
import { chunked, mediaFixture, sha256Hex } from "../support/media-fixtures.ts";

export interface MediaStoreHarness {
  readonly store: MediaStore;
  /** How many files of bytes the store holds, complete or partial (content addressing, and nothing left behind). */
  heldFiles(): Promise<number>;
  cleanup(): Promise<void>;
}

const T0 = new Date("2030-01-01T00:00:00.000Z");
const DAY = 86_400_000;

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A source that records whether the store stopped reading it early. */
function tracked(bytes: Uint8Array, chunkSize = 16 * 1024) {
  const state = { cancelled: false, pulled: 0 };
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
      state.pulled = offset;
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

async function* failingAfter(bytes: Uint8Array, error: Error): AsyncGenerator<Uint8Array> {
  yield bytes;
  throw error;
}

/** The one contract every MediaStore adapter passes. */
export function mediaStoreContract(name: string, open: (clock: Clock) => Promise<MediaStoreHarness>): void {
  describe(`MediaStore contract: ${name}`, () => {
    let h: MediaStoreHarness;
    let store: MediaStore;
    let now = T0;
    beforeEach(async () => {
      now = T0;
      h = await open({ now: () => now });
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("stores a stream and gives back the same bytes, with its size, hash, detected type, name and time", async () => {
      const png = mediaFixture.png(200_000);
      const stored = await store.put(chunked(png, 7_000), { maxBytes: 1_000_000, filename: "photo.png" });
      expect(stored).toMatchObject({
        size: png.byteLength,
        sha256: sha256Hex(png),
        mimeType: "image/png",
        filename: "photo.png",
        createdAt: T0,
      });
      expect(stored.id).toMatch(/^\S{8,}$/);
      const got = await store.get(stored.id);
      expect(got?.meta).toEqual(stored);
      expect(sha256Hex(await readAll(got!.stream))).toBe(sha256Hex(png));
      expect(await store.stat(stored.id)).toEqual(stored);
    });

    it("takes an async iterable as well as a web stream", async () => {
      const jpeg = mediaFixture.jpeg(50_000);
      async function* parts() {
        yield jpeg.subarray(0, 10);
        yield jpeg.subarray(10, 30_000);
        yield jpeg.subarray(30_000);
      }
      const stored = await store.put(parts(), { maxBytes: 100_000 });
      expect(stored).toMatchObject({ size: 50_000, mimeType: "image/jpeg", filename: undefined });
      expect(sha256Hex(await readAll((await store.get(stored.id))!.stream))).toBe(sha256Hex(jpeg));
    });

    it("reads the type from the bytes, never from what the sender declared", async () => {
      const exe = await store.put(chunked(mediaFixture.exe(3000)), {
        maxBytes: 10_000,
        filename: "cat.jpg",
        declaredType: "image/jpeg",
      });
      expect(exe.mimeType).toBe("application/x-msdownload");
      const elf = await store.put(chunked(mediaFixture.elf(9000)), { maxBytes: 10_000, declaredType: "image/png" });
      expect(elf.mimeType).toBe("application/x-elf");
    });

    it("calls unrecognised text text/plain and other unrecognised bytes application/octet-stream", async () => {
      expect((await store.put(chunked(mediaFixture.text(6000)), { maxBytes: 10_000 })).mimeType).toBe("text/plain");
      const binary = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) % 32);
      expect((await store.put(chunked(binary), { maxBytes: 10_000 })).mimeType).toBe("application/octet-stream");
    });

    it("refuses a file over maxBytes as soon as it passes it, stops reading, and keeps nothing", async () => {
      const big = mediaFixture.png(1_000_000);
      const { stream, state } = tracked(big);
      const error = await store.put(stream, { maxBytes: 100_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("MEDIA.TOO_LARGE");
      expect(state.cancelled).toBe(true);
      expect(state.pulled).toBeLessThan(200_000);
      expect(await h.heldFiles()).toBe(0);
    });

    it("accepts a file of exactly maxBytes", async () => {
      const stored = await store.put(chunked(mediaFixture.jpeg(8192), 1000), { maxBytes: 8192 });
      expect(stored.size).toBe(8192);
    });

    it("asks a maxBytes function for the limit once the type is known, and keeps nothing when it refuses", async () => {
      const seen: string[] = [];
      const limitFor = (mime: string) => {
        seen.push(mime);
        if (mime !== "image/jpeg") throw new DomainError("MEDIA.UNSUPPORTED_TYPE", `not ${mime}`);
        return 20_000;
      };
      const { stream, state } = tracked(mediaFixture.exe(500_000));
      const refused = await store.put(stream, { maxBytes: limitFor }).catch((e: unknown) => e);
      expect((refused as DomainError).code).toBe("MEDIA.UNSUPPORTED_TYPE");
      expect(state.cancelled).toBe(true);
      const tooBig = await store.put(chunked(mediaFixture.jpeg(30_000)), { maxBytes: limitFor }).catch((e) => e);
      expect((tooBig as DomainError).code).toBe("MEDIA.TOO_LARGE");
      // A file shorter than the bytes type detection reads is judged at its end.
      expect((await store.put(chunked(mediaFixture.jpeg(100)), { maxBytes: limitFor })).size).toBe(100);
      expect(seen).toEqual(["application/x-msdownload", "image/jpeg", "image/jpeg"]);
      expect(await h.heldFiles()).toBe(1);
    });

    it("keeps nothing of a source that fails midway, and rejects with its error", async () => {
      const cut = new Error("connection reset");
      await expect(store.put(failingAfter(mediaFixture.png(50_000), cut), { maxBytes: 1_000_000 })).rejects.toBe(cut);
      expect(await h.heldFiles()).toBe(0);
    });

    it("keeps the same bytes once: two ids, one file, and deleting one id leaves the other whole", async () => {
      const png = mediaFixture.png(40_000);
      const a = await store.put(chunked(png), { maxBytes: 100_000, filename: "a.png" });
      const b = await store.put(chunked(png), { maxBytes: 100_000, filename: "b.png" });
      expect(a.id).not.toBe(b.id);
      expect(b.sha256).toBe(a.sha256);
      expect(b.filename).toBe("b.png");
      expect(await h.heldFiles()).toBe(1);

      expect(await store.delete(a.id)).toBe(true);
      expect(await store.get(a.id)).toBeUndefined();
      expect(sha256Hex(await readAll((await store.get(b.id))!.stream))).toBe(sha256Hex(png));
      expect(await h.heldFiles()).toBe(1);

      expect(await store.delete(b.id)).toBe(true);
      expect(await h.heldFiles()).toBe(0);
    });

    it("answers undefined or false for an unknown id, and for one already deleted", async () => {
      expect(await store.get("med_unknown")).toBeUndefined();
      expect(await store.stat("med_unknown")).toBeUndefined();
      expect(await store.delete("med_unknown")).toBe(false);
      const stored = await store.put(chunked(mediaFixture.pdf(2000)), { maxBytes: 10_000 });
      expect(await store.delete(stored.id)).toBe(true);
      expect(await store.delete(stored.id)).toBe(false);
      expect(await store.stat(stored.id)).toBeUndefined();
    });

    it("lets a stream already handed out read to its end after a delete", async () => {
      const pdf = mediaFixture.pdf(300_000);
      const stored = await store.put(chunked(pdf), { maxBytes: 1_000_000 });
      const got = await store.get(stored.id);
      await store.delete(stored.id);
      expect(sha256Hex(await readAll(got!.stream))).toBe(sha256Hex(pdf));
    });

    it("sweeps ids older than the cut-off that nothing needs, keeping needed, newer and shared bytes", async () => {
      const shared = mediaFixture.png(5000);
      const old = await store.put(chunked(shared), { maxBytes: 10_000 });
      const oldNeeded = await store.put(chunked(mediaFixture.jpeg(5000)), { maxBytes: 10_000 });
      const oldAlone = await store.put(chunked(mediaFixture.pdf(5000)), { maxBytes: 10_000 });
      now = new Date(T0.getTime() + 40 * DAY);
      const recent = await store.put(chunked(shared), { maxBytes: 10_000 });
      expect(await h.heldFiles()).toBe(3);

      const asked: string[] = [];
      const removed = await store.sweep(new Date(T0.getTime() + 30 * DAY), async (id) => {
        asked.push(id);
        return id === oldNeeded.id;
      });
      expect(removed).toBe(2);
      expect(asked.sort()).toEqual([old.id, oldNeeded.id, oldAlone.id].sort());
      expect(await store.stat(old.id)).toBeUndefined();
      expect(await store.stat(oldAlone.id)).toBeUndefined();
      expect(await store.stat(oldNeeded.id)).toBeDefined();
      expect(sha256Hex(await readAll((await store.get(recent.id))!.stream))).toBe(sha256Hex(shared));
      expect(await h.heldFiles()).toBe(2);
      expect(await store.sweep(new Date(T0.getTime() + 30 * DAY), () => false)).toBe(1);
    });

    it("refuses work once closed", async () => {
      await store.close();
      await expect(store.put(chunked(mediaFixture.png()), { maxBytes: 10_000 })).rejects.toMatchObject({
        code: "STORE.UNAVAILABLE",
      });
      await expect(store.stat("med_x")).rejects.toMatchObject({ code: "STORE.UNAVAILABLE" });
    });
  });
}
