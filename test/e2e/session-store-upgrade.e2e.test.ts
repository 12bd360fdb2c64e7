import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON } from "@whiskeysockets/baileys";
import { afterEach, describe, expect, it } from "vitest";
import { DiskSessionStore } from "../../src/adapters/session-store/disk/disk.session-store.ts";
import { main as sessionsCli } from "../../src/app/cli/sessions-cli.ts";
import type { StoredValue } from "../../src/domain/ports/session-store.port.ts";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { storedKeys } from "../support/linked-session.ts";
import { tempDir } from "../support/temp-dir.ts";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function simulator(): Promise<WhatsAppSimulator> {
  const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
  cleanups.push(() => sim.close());
  return sim;
}

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

/** The gateway on real Baileys against the simulator; resolves once `default` is open, failing if it ever shows a QR. */
async function startOpen(sim: WhatsAppSimulator, dir: string): Promise<InProcessGateway> {
  const gw = await startInProcessGateway(
    { GATEWAY_PROVIDERS: "baileys", WA_WEBSOCKET_URL: sim.wsUrl, WA_MEDIA_CA_FILE: sim.caFile },
    "configured",
    dir,
  );
  cleanups.push(() => gw.close());
  await eventually(
    async () => {
      const s = (await (await gw.call("GET", "/sessions/default")).json()) as { state: string };
      if (s.state === "qr") throw new Error("asked for a new QR");
      return s.state === "open" || undefined;
    },
    20_000,
    "session open",
  );
  expect((await gw.call("GET", "/sessions/default/qr")).status).toBe(404);
  return gw;
}

describe("upgrade of a linked data dir", () => {
  it("starts on a data dir the disk store wrote, with no new QR, and again after a restart", async () => {
    const sim = await simulator();
    const dir = await dataDir();
    const account = sim.provisionAccount({ phone: "40722000001" });
    // Today's gateway: the login written by the disk store (BufferJSON files, its index and log).
    const disk = new DiskSessionStore({ dataDir: dir });
    await disk.setMany(
      "default",
      new Map<string, StoredValue>([
        ["creds", JSON.parse(JSON.stringify(account.creds, BufferJSON.replacer), BufferJSON.reviver) as StoredValue],
      ]),
    );
    await disk.close();

    const first = await startOpen(sim, dir);
    expect(await storedKeys(dir, "default")).toContain("creds");
    const moved = (await readdir(dir)).filter((name) => name.startsWith("sessions.migrated-"));
    expect(moved).toHaveLength(1);
    expect(await readdir(join(dir, moved[0]!))).toEqual(["default"]);
    await first.gateway.stop();

    await startOpen(sim, dir);
    expect((await readdir(dir)).filter((name) => name.startsWith("sessions.migrated-"))).toEqual(moved);
  });

  it("opens a login imported with `sessions import --baileys-folder`, with no QR", async () => {
    const sim = await simulator();
    const dir = await dataDir();
    const account = sim.provisionAccount({ phone: "40722000002" });
    // A raw Baileys program's useMultiFileAuthState folder, outside the data dir.
    const folder = join(await dataDir(), "auth_info_baileys");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "creds.json"), JSON.stringify(account.creds, BufferJSON.replacer));
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    expect(
      await sessionsCli(["import", "--baileys-folder", folder, "--session", "default"], { DATA_DIR: dir }, io),
    ).toBe(0);
    expect(out.join("\n")).toMatch(/imported 1 keys/);
    await startOpen(sim, dir);
  });
});
