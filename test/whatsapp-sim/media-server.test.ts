import { spawn } from "node:child_process";
import { createHash, randomBytes, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { mediaTrust } from "../fakes/whatsapp/media-trust.ts";
import type { MediaTrust } from "../fakes/whatsapp/media-trust.ts";
import { linkedClient, startSim } from "./harness.ts";

const CLI = fileURLToPath(new URL("../fakes/whatsapp/cli.ts", import.meta.url));
const ALICE = "15550006301";

const token = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("base64url");

/** Raw HTTPS calls to the media server, as Baileys makes them. */
function mediaHttp(sim: WhatsAppSimulator, trust: MediaTrust) {
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`https://${sim.mediaHost}${path}`, { ...init, dispatcher: trust.dispatcher });
  return {
    get: (path: string, headers: Record<string, string> = {}) => call(path, { headers }),
    upload: (bytes: Buffer, auth: string, hash = token(bytes)) =>
      call(`/mms/image/${hash}?auth=${encodeURIComponent(auth)}&token=${hash}`, { method: "POST", body: bytes }),
  };
}

describe("the simulator's media server", () => {
  it("media_conn names it; uploads need media_conn's auth and the hash of their bytes", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE, { fetchAgent: trust.fetchAgent });
    const http = mediaHttp(sim, trust);
    const blob = randomBytes(3000);

    const conn = await alice.sock!.refreshMediaConn(true);
    expect(conn.hosts).toEqual([{ hostname: sim.mediaHost, maxContentLengthBytes: 100 * 1024 * 1024 }]);
    expect(conn.ttl).toBeGreaterThan(0);

    expect((await http.upload(blob, "not-the-auth")).status).toBe(401);
    expect((await http.upload(blob, conn.auth, token(randomBytes(8)))).status).toBe(400);
    const accepted = await http.upload(blob, conn.auth);
    expect(accepted.status).toBe(200);
    const { url, direct_path } = (await accepted.json()) as { url: string; direct_path: string };

    expect(url.startsWith(`https://${sim.mediaHost}${direct_path}`)).toBe(true);
    const byPath = Buffer.from(await (await http.get(direct_path)).arrayBuffer());
    const byUrl = Buffer.from(await (await fetch(url, { dispatcher: trust.dispatcher })).arrayBuffer());
    expect(byPath.equals(blob)).toBe(true);
    expect(byUrl.equals(blob)).toBe(true);
    expect(sim.stats().media).toMatchObject({ uploads: 1, uploadsRefused: 2, downloads: 2, downloadBytes: 6000 });
  });

  it("serves byte ranges, and 404 for what it never stored", async () => {
    const sim = await startSim();
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE);
    const http = mediaHttp(sim, trust);
    const blob = randomBytes(1000);
    const { auth } = await alice.sock!.refreshMediaConn(true);
    const { direct_path } = (await (await http.upload(blob, auth)).json()) as { direct_path: string };

    const part = await http.get(direct_path, { range: "bytes=16-47" });
    const unknown = await http.get("/v/t62.7118-24/0000.enc");

    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 16-47/1000");
    expect(Buffer.from(await part.arrayBuffer()).equals(blob.subarray(16, 48))).toBe(true);
    expect(unknown.status).toBe(404);
  });

  it("refuses an upload over its size limit with 413, as media_conn announces it", async () => {
    const sim = await startSim({ maxMediaBytes: 1000 });
    const trust = await mediaTrust(sim.caFile);
    const alice = await linkedClient(sim, ALICE);
    const conn = await alice.sock!.refreshMediaConn(true);

    const refused = await mediaHttp(sim, trust).upload(randomBytes(1001), conn.auth);

    expect(conn.hosts[0]!.maxContentLengthBytes).toBe(1000);
    expect(refused.status).toBe(413);
  });

  it("its CA issued the server's certificate; close() removes the CA file and the blobs", async () => {
    const sim = await startSim();
    const ca = new X509Certificate(readFileSync(sim.caFile));

    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain("WhatsApp simulator media CA");
    await sim.close();
    expect(existsSync(dirname(sim.caFile))).toBe(false);
  });

  it("the CLI start line carries caFile, which is gone after SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const line = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value as string;
      const start = JSON.parse(line) as { ws: string; control: string; caFile: string };

      expect(start).toMatchObject({ ws: expect.any(String), control: expect.any(String), caFile: expect.any(String) });
      expect(new X509Certificate(readFileSync(start.caFile)).ca).toBe(true);
      const health = (await (await fetch(`${start.control}/control/health`)).json()) as { caFile: string };
      expect(health.caFile).toBe(start.caFile);
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(existsSync(start.caFile)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
