import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import Database from "libsql";
import { SqliteSessionStore } from "../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import { FirestoreSessionStore } from "../../src/adapters/session-store/firestore/firestore.session-store.ts";
import { main } from "../../src/app/cli/sessions-cli.ts";
import type { StoredValue } from "../../src/domain/ports/session-store.port.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../support/firestore-emulator.ts";

/** The embedded store of a data dir, as the gateway opens it. */
function local(dataDir: string): SqliteSessionStore {
  return new SqliteSessionStore({ path: join(dataDir, "sessions.db") });
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe("sessions CLI usage errors", () => {
  it.each([
    [[], /missing command/],
    [["copy"], /unknown command/],
    [["migrate", "--to", "firestore"], /--from is required/],
    [["migrate", "--from", "disk"], /--to is required/],
    [["migrate", "--from", "s3", "--to", "sqlite"], /must be sqlite or firestore/],
    [["migrate", "--from", "disk", "--to", "sqlite"], /must differ/],
    [["import", "--session", "s"], /--baileys-folder is required/],
    [["export", "--baileys-folder", "/tmp/x"], /--session is required/],
    [["import", "--baileys-folder", "/tmp/x", "--session", "a/b"], /invalid session id/],
    [["export", "--session", "s", "--baileys-folder", "/tmp/x", "--dry-run"], /unknown argument/],
    [["migrate", "--from", "disk", "--to", "firestore", "--session", "../x"], /invalid session id/],
    [["migrate", "--from", "disk", "--to", "firestore", "--force"], /unknown argument/],
    [["migrate", "--from", "disk", "--to", "firestore", "--session"], /--session needs a value/],
  ])("rejects %j with exit code 2 and a message", async (argv, message) => {
    const { io, err } = capture();
    expect(await main(argv as string[], {}, io)).toBe(2);
    expect(err.join("\n")).toMatch(message);
    expect(err.join("\n")).toMatch(/usage: sessions migrate/);
    expect(err.join("\n")).toMatch(/sessions import --baileys-folder DIR --session ID/);
  });

  it("needs FIRESTORE_PROJECT_ID to reach Firestore", async () => {
    const { io, err } = capture();
    expect(await main(["migrate", "--from", "disk", "--to", "firestore"], { DATA_DIR: "/nonexistent" }, io)).toBe(2);
    expect(err.join("\n")).toMatch(/FIRESTORE_PROJECT_ID/);
  });

  it("exits non-zero when run as a program with bad usage", () => {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", "src/app/cli/sessions-cli.ts", "migrate", "--from", "disk"],
      { encoding: "utf8", cwd: join(import.meta.dirname, "../..") },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--to is required/);
  });
});

describe.skipIf(!firestoreEmulatorAvailable())("sessions CLI migrate (emulator)", () => {
  let emulator: FirestoreEmulator;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const firestore = () => new FirestoreSessionStore({ projectId: emulator.projectId, emulatorHost: emulator.host });

  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "sessions-cli-"));
    env = { DATA_DIR: dataDir, FIRESTORE_PROJECT_ID: emulator.projectId, FIRESTORE_EMULATOR_HOST: emulator.host };
    const disk = local(dataDir);
    await disk.setMany(
      "alpha",
      new Map<string, StoredValue>([
        ["creds", { me: "a", key: Buffer.alloc(32, 1) }],
        ["pre-key-1", Buffer.alloc(10, 2)],
      ]),
    );
    await disk.setMany("beta", new Map<string, StoredValue>([["creds", { me: "b" }]]));
    await disk.close();
  });
  afterEach(async () => {
    await emulator.reset();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("dry run prints what it would copy and copies nothing", async () => {
    const { io, out } = capture();
    expect(await main(["migrate", "--from", "disk", "--to", "firestore", "--dry-run"], env, io)).toBe(0);
    const text = out.join("\n");
    expect(text).toMatch(/dry run/);
    expect(text).toMatch(/session alpha: 2 keys, \d+ bytes; would copy 2 keys/);
    expect(text).toMatch(/session beta: 1 keys/);
    expect(text).toMatch(/total: 2 sessions, 3 keys/);
    const fs = firestore();
    expect(await fs.listSessions()).toEqual([]);
    await fs.close();
  });

  it("copies every key, a second run writes nothing, and it copies back to an empty disk", async () => {
    const first = capture();
    expect(await main(["migrate", "--from", "disk", "--to", "firestore"], env, first.io)).toBe(0);
    expect(first.out.join("\n")).toMatch(/copied 3 keys/);
    const fs = firestore();
    const disk = local(dataDir);
    expect(await fs.entries("alpha")).toEqual(await disk.entries("alpha"));
    expect(await fs.entries("beta")).toEqual(await disk.entries("beta"));
    const seqAfterFirst = (await fs.sessionMeta("alpha")).seq;
    await disk.close();

    const second = capture();
    expect(await main(["migrate", "--from", "disk", "--to", "firestore"], env, second.io)).toBe(0);
    expect(second.out.join("\n")).toMatch(/copied 0 keys/);
    expect((await fs.sessionMeta("alpha")).seq).toBe(seqAfterFirst);

    const emptyDir = await mkdtemp(join(tmpdir(), "sessions-cli-back-"));
    try {
      const back = capture();
      expect(
        await main(
          ["migrate", "--from", "firestore", "--to", "disk", "--session", "alpha"],
          { ...env, DATA_DIR: emptyDir },
          back.io,
        ),
      ).toBe(0);
      expect(back.out.join("\n")).toMatch(/total: 1 sessions, 2 keys/);
      const restored = local(emptyDir);
      expect(await restored.entries("alpha")).toEqual(await fs.entries("alpha"));
      expect(await restored.listSessions()).toEqual(["alpha"]);
      await restored.close();
    } finally {
      await fs.close();
      await rm(emptyDir, { recursive: true, force: true });
    }
  });
});

describe("migrateSessions", () => {
  it("repairs a target whose entry is corrupt, and dry runs write nothing", async () => {
    const { migrateSessions } = await import("../../src/app/session-migration.ts");
    const source = await mkdtemp(join(tmpdir(), "migrate-src-"));
    const target = await mkdtemp(join(tmpdir(), "migrate-dst-"));
    try {
      const from = local(source);
      await from.setMany(
        "s",
        new Map<string, StoredValue>([
          ["creds", { k: Buffer.from([1, 2]) }],
          ["pre-key-1", 1],
        ]),
      );
      const seed = local(target);
      await seed.setMany("s", new Map<string, StoredValue>([["creds", "old"]]));
      await seed.close();
      const db = new Database(join(target, "sessions.db"));
      db.prepare("UPDATE entries SET value = '{trunc' WHERE session = 's'").run([]);
      db.close();
      const to = local(target);
      const dry = await migrateSessions({ from, to, dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, keys: 2, changed: 2 });
      await expect(to.getMany("s", ["creds"])).rejects.toThrow(/corrupt/);
      const report = await migrateSessions({ from, to, dryRun: false });
      expect(report.changed).toBe(2);
      expect(await to.entries("s")).toEqual(await from.entries("s"));
      expect((await migrateSessions({ from, to, dryRun: false })).changed).toBe(0);
      await Promise.all([from.close(), to.close()]);
    } finally {
      await rm(source, { recursive: true, force: true });
      await rm(target, { recursive: true, force: true });
    }
  });
});
