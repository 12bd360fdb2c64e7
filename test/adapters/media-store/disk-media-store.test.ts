import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DiskMediaStore } from "../../../src/adapters/media-store/disk/disk.media-store.ts";
import { mediaStoreContract } from "../../contracts/media-store.contract.ts";
import { chunked, mediaFixture, sha256Hex } from "../../support/media-fixtures.ts";
import { tempDir } from "../../support/temp-dir.ts";

/** Every file under the blob and temp folders: bytes held, whole or partial. */
function filesUnder(mediaDir: string): string[] {
  return ["blobs", "tmp"].flatMap((folder) =>
    readdirSync(join(mediaDir, folder), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name)),
  );
}

mediaStoreContract("disk", async (clock) => {
  const dir = await tempDir("media-");
  const mediaDir = join(dir.path, "media");
  const store = new DiskMediaStore({ dir: mediaDir, synchronous: "normal", clock });
  return {
    store,
    heldFiles: async () => filesUnder(mediaDir).length,
    async cleanup() {
      await store.close();
      await dir.remove();
    },
  };
});

describe("DiskMediaStore on disk", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  async function mediaDir() {
    const d = await tempDir("media-");
    cleanups.push(d.remove);
    return join(d.path, "media");
  }
  function openStore(dir: string) {
    const store = new DiskMediaStore({ dir, synchronous: "normal" });
    cleanups.push(() => store.close());
    return store;
  }

  it("keeps files across a reopen, private to the gateway's user", async () => {
    const dir = await mediaDir();
    const png = mediaFixture.png(10_000);
    const first = new DiskMediaStore({ dir });
    const stored = await first.put(chunked(png), { maxBytes: 100_000, filename: "p.png" });
    await first.close();

    const [blob] = filesUnder(dir);
    expect(blob).toBe(join(dir, "blobs", stored.sha256.slice(0, 2), stored.sha256));
    expect(statSync(blob!).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "media.db")).mode & 0o777).toBe(0o600);
    for (const d of [dir, join(dir, "blobs"), join(dir, "blobs", stored.sha256.slice(0, 2)), join(dir, "tmp")])
      expect(statSync(d).mode & 0o777).toBe(0o700);

    const again = openStore(dir);
    const got = await again.get(stored.id);
    expect(got?.meta).toEqual(stored);
    const bytes: Uint8Array[] = [];
    for await (const chunk of got!.stream as unknown as AsyncIterable<Uint8Array>) bytes.push(chunk);
    expect(sha256Hex(Buffer.concat(bytes))).toBe(sha256Hex(png));
  });

  it("removes at open the partial uploads a crash left in tmp/", async () => {
    const dir = await mediaDir();
    await openStore(dir).close();
    // What kill -9 during an upload leaves: a temp file no row names.
    writeFileSync(join(dir, "tmp", "5f1d-cut.part"), mediaFixture.jpeg(70_000).subarray(0, 30_000));
    openStore(dir);
    expect(filesUnder(dir)).toEqual([]);
  });

  it("sweeps away bytes a crash left without an id (placed, not yet recorded)", async () => {
    const dir = await mediaDir();
    const store = openStore(dir);
    const kept = await store.put(chunked(mediaFixture.pdf(4000)), { maxBytes: 10_000 });
    const orphan = mediaFixture.png(4000);
    const sha = sha256Hex(orphan);
    mkdirSync(join(dir, "blobs", sha.slice(0, 2)), { recursive: true });
    writeFileSync(join(dir, "blobs", sha.slice(0, 2), sha), orphan);
    expect(filesUnder(dir)).toHaveLength(2);
    expect(await store.sweep(new Date(0), () => false)).toBe(0);
    expect(filesUnder(dir)).toEqual([join(dir, "blobs", kept.sha256.slice(0, 2), kept.sha256)]);
  });

  it("writes the same bytes sent at once by many uploads as one file, with every id readable", async () => {
    const store = openStore(await mediaDir());
    const jpeg = mediaFixture.jpeg(100_000);
    const stored = await Promise.all(
      Array.from({ length: 5 }, () => store.put(chunked(jpeg, 9_000), { maxBytes: 200_000 })),
    );
    expect(new Set(stored.map((s) => s.id)).size).toBe(5);
    await Promise.all(stored.slice(0, 4).map((s) => store.delete(s.id)));
    expect((await store.stat(stored[4]!.id))?.sha256).toBe(sha256Hex(jpeg));
    expect(await store.get(stored[4]!.id)).toBeDefined();
  });
});
