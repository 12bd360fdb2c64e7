import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON, initAuthCreds, useMultiFileAuthState } from "@whiskeysockets/baileys";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteSessionStore } from "../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { main } from "../../src/app/cli/sessions-cli.ts";
import { tempDir } from "../support/temp-dir.ts";

const canonical = (value: unknown) => JSON.stringify(value, BufferJSON.replacer);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

let dir: Awaited<ReturnType<typeof tempDir>>;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await tempDir();
  env = { DATA_DIR: join(dir.path, "data") };
});
afterEach(() => dir.remove());

const preKey = { public: Buffer.from("pub-key-bytes"), private: Buffer.from("priv-key-bytes") };
const appStateKey = { keyData: Buffer.from([9, 9]), fingerprint: { rawId: 1, currentIndex: 2 }, timestamp: 5 };

/** A login folder as a raw Baileys program leaves it: creds and one key of each kind whose id needs renaming. */
async function baileysFolder(path: string) {
  const { state, saveCreds } = await useMultiFileAuthState(path);
  await saveCreds();
  await state.keys.set({
    "pre-key": { "12": preKey },
    session: { "4072.0": Buffer.from([1, 2, 3]) },
    "app-state-sync-key": { "AB/CD+E=": appStateKey as never },
    "sender-key": { "120363@g.us::4072::0": Buffer.from([7]) },
  });
  return state.creds;
}

function store(): SqliteSessionStore {
  return new SqliteSessionStore({ path: join(dir.path, "data", "sessions.db") });
}

describe("sessions import --baileys-folder", () => {
  it("adopts a useMultiFileAuthState folder under Baileys' own key names, bytes equal", async () => {
    const folder = join(dir.path, "auth");
    const creds = await baileysFolder(folder);
    const { io, out } = capture();
    expect(await main(["import", "--baileys-folder", folder, "--session", "adopted"], env, io)).toBe(0);
    expect(out.join("\n")).toMatch(/imported 5 keys .* into session adopted/);
    const s = store();
    const all = await s.entries("adopted");
    expect([...all.keys()].sort()).toEqual(
      [
        "app-state-sync-key-AB/CD+E=",
        "creds",
        "pre-key-12",
        "sender-key-120363@g.us::4072::0",
        "session-4072.0",
      ].sort(),
    );
    expect(canonical(all.get("creds"))).toBe(canonical(creds));
    expect(canonical(all.get("pre-key-12"))).toBe(canonical(preKey));
    expect(Buffer.from(all.get("sender-key-120363@g.us::4072::0") as Uint8Array)).toEqual(Buffer.from([7]));
    await s.close();
  });

  it("refuses a session that holds keys, a folder without creds.json, and a file that does not decode (writing nothing)", async () => {
    const folder = join(dir.path, "auth");
    await baileysFolder(folder);
    expect(await main(["import", "--baileys-folder", folder, "--session", "s"], env, capture().io)).toBe(0);
    const again = capture();
    expect(await main(["import", "--baileys-folder", folder, "--session", "s"], env, again.io)).toBe(1);
    expect(again.err.join("\n")).toMatch(/already holds 5 keys/);

    const empty = join(dir.path, "empty");
    await mkdir(empty);
    const noCreds = capture();
    expect(await main(["import", "--baileys-folder", empty, "--session", "t"], env, noCreds.io)).toBe(1);
    expect(noCreds.err.join("\n")).toMatch(/no creds.json/);

    await writeFile(join(folder, "pre-key-13.json"), '{"type": "Buf');
    const broken = capture();
    expect(await main(["import", "--baileys-folder", folder, "--session", "u"], env, broken.io)).toBe(1);
    expect(broken.err.join("\n")).toMatch(/pre-key-13\.json is not a BufferJSON file/);
    const s = store();
    expect(await s.listSessions()).toEqual(["s"]);
    await s.close();
  });
});

describe("sessions export --baileys-folder", () => {
  it("writes a folder useMultiFileAuthState opens, equal to what was imported (a round trip)", async () => {
    const folder = join(dir.path, "auth");
    const creds = await baileysFolder(folder);
    expect(await main(["import", "--baileys-folder", folder, "--session", "s"], env, capture().io)).toBe(0);
    const exported = join(dir.path, "exported");
    const { io, out } = capture();
    expect(await main(["export", "--session", "s", "--baileys-folder", exported], env, io)).toBe(0);
    expect(out.join("\n")).toMatch(/exported session s: 5 files/);
    expect((await readdir(exported)).sort()).toEqual((await readdir(folder)).sort());
    expect((await stat(exported)).mode & 0o777).toBe(0o700);
    expect((await stat(join(exported, "creds.json"))).mode & 0o777).toBe(0o600);

    const { state } = await useMultiFileAuthState(exported);
    expect(canonical(state.creds)).toBe(canonical(creds));
    expect(canonical((await state.keys.get("pre-key", ["12"]))["12"])).toBe(canonical(preKey));
    expect(canonical((await state.keys.get("session", ["4072.0"]))["4072.0"])).toBe(canonical(Buffer.from([1, 2, 3])));
    const appState = (await state.keys.get("app-state-sync-key", ["AB/CD+E="]))["AB/CD+E="];
    expect(Buffer.from(appState!.keyData!)).toEqual(appStateKey.keyData);
    const senderKey = (await state.keys.get("sender-key", ["120363@g.us::4072::0"]))["120363@g.us::4072::0"];
    expect(Buffer.from(senderKey as Uint8Array)).toEqual(Buffer.from([7]));

    // And back in: the same keys and values under another id.
    expect(await main(["import", "--baileys-folder", exported, "--session", "back"], env, capture().io)).toBe(0);
    const s = store();
    expect(await s.entries("back")).toEqual(await s.entries("s"));
    await s.close();
  });

  it("refuses an unknown session and a folder that already holds a login", async () => {
    const unknown = capture();
    expect(await main(["export", "--session", "nope", "--baileys-folder", join(dir.path, "x")], env, unknown.io)).toBe(
      1,
    );
    expect(unknown.err.join("\n")).toMatch(/holds no keys/);

    const s = store();
    await s.setMany("s", new Map([["creds", initAuthCreds() as never]]));
    await s.close();
    const taken = join(dir.path, "taken");
    await mkdir(taken);
    await writeFile(join(taken, "creds.json"), "{}");
    const refused = capture();
    expect(await main(["export", "--session", "s", "--baileys-folder", taken], env, refused.io)).toBe(1);
    expect(refused.err.join("\n")).toMatch(/already holds 1 .json file/);
  });
});
