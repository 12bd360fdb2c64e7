import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startGatewayProcess } from "../support/gateway-process.ts";
import { eventually } from "../support/in-process-gateway.ts";
import { mediaFixture } from "../support/media-fixtures.ts";
import { tempDir } from "../support/temp-dir.ts";

const entry = join(import.meta.dirname, "../support/memory-gateway.main.ts");
const auth = { authorization: "Bearer media-key" };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("an upload cut by kill -9", () => {
  it("leaves nothing under a final name, and its partial file is gone at the next start", async () => {
    const dir = await tempDir();
    cleanups.push(dir.remove);
    const env = { DATA_DIR: dir.path, API_KEYS: "media-key" };
    const start = async () => {
      const gw = await startGatewayProcess(entry, env);
      cleanups.push(() => {
        if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      });
      return gw;
    };
    const gw = await start();

    // Half a file, then the client keeps the upload open: the gateway is killed mid-write.
    const png = mediaFixture.png(2 * 1024 * 1024);
    let sent = false;
    const hanging = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return new Promise<void>(() => undefined);
        sent = true;
        controller.enqueue(png.subarray(0, 1024 * 1024));
      },
    });
    const upload = fetch(`${gw.url}/media`, {
      method: "POST",
      headers: { ...auth, "content-type": "image/png" },
      body: hanging,
      duplex: "half",
    } as RequestInit).catch((error: unknown) => error);
    const tmp = join(dir.path, "media", "tmp");
    const partial = await eventually(
      () => filesIn(tmp).find((file) => statSync(file).size >= 512 * 1024),
      15_000,
      "a partial upload on disk",
    );
    expect(partial).toMatch(/\.part$/);
    expect(filesIn(join(dir.path, "media", "blobs"))).toEqual([]);

    gw.child.kill("SIGKILL");
    await gw.exited;
    expect(await upload).toBeInstanceOf(Error);

    const again = await start();
    expect(filesIn(tmp)).toEqual([]);
    expect(filesIn(join(dir.path, "media", "blobs"))).toEqual([]);
    const res = await fetch(`${again.url}/media`, { method: "POST", headers: auth, body: png });
    expect(res.status).toBe(201);
    expect(filesIn(join(dir.path, "media", "blobs"))).toHaveLength(1);
  });
});
