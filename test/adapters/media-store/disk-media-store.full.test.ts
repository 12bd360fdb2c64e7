import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DiskMediaStore } from "../../../src/adapters/media-store/disk/disk.media-store.ts";
import { mountSmallFilesystem } from "../../support/full-filesystem.ts";
import { chunked, mediaFixture } from "../../support/media-fixtures.ts";

describe("DiskMediaStore on a full filesystem", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  // Needs a real full filesystem (a tmpfs: root); skipped with the reason where mounting is refused.
  it("refuses an upload with STORE.UNAVAILABLE, leaves nothing partial, reports down, and resumes once there is space", async (ctx) => {
    const mounted = await mountSmallFilesystem(2 * 1024 * 1024);
    if ("skipped" in mounted) return ctx.skip(mounted.skipped);
    const fs = mounted.filesystem;
    cleanups.push(() => fs.close());
    const dir = join(fs.path, "media");
    const store = new DiskMediaStore({ dir });
    cleanups.push(() => store.close());
    await store.put(chunked(mediaFixture.pdf(4_000)), { maxBytes: 1_000_000 });

    fs.fill();
    const refused = store.put(chunked(mediaFixture.pdf(600_000)), { maxBytes: 1_000_000 });
    await expect(refused).rejects.toMatchObject({
      code: "STORE.UNAVAILABLE",
      message: expect.stringMatching(/^the media store cannot write: the disk is full/),
    });
    expect(readdirSync(join(dir, "tmp"))).toEqual([]);
    expect(await store.health()).toMatchObject({ status: "down", detail: expect.stringMatching(/disk is full/) });

    fs.free();
    expect(await store.health()).toEqual({ status: "ok" });
    const stored = await store.put(chunked(mediaFixture.pdf(600_000)), { maxBytes: 1_000_000 });
    expect((await store.stat(stored.id))?.size).toBe(600_000);
  });
});
