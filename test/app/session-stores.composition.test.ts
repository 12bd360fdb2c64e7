import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DiskSessionStore } from "../../src/adapters/session-store/disk/disk.session-store.ts";
import { createSessionStore } from "../../src/app/composition/session-stores.ts";

describe("createSessionStore", () => {
  it("runs mode off without any Firestore configuration", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "compose-"));
    try {
      const store = await createSessionStore({ dataDir, mode: "off" });
      await store.setMany("s", new Map([["creds", "x"]]));
      expect(store.health()).toEqual({ status: "ok" });
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("keeps logins in DATA_DIR/sessions.db (0600), upgrading a data dir the disk store wrote first", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "compose-"));
    try {
      const disk = new DiskSessionStore({ dataDir });
      await disk.setMany("old", new Map([["creds", { me: "x" }]]));
      await disk.close();
      const store = await createSessionStore({ dataDir, mode: "off" });
      expect(store.kind).toBe("sqlite");
      expect(await store.entries("old")).toEqual(new Map([["creds", { me: "x" }]]));
      await store.close();
      expect((await stat(join(dataDir, "sessions.db"))).mode & 0o777).toBe(0o600);
      expect((await readdir(dataDir)).filter((name) => /^sessions(\.db|\.migrated-.*)$/.test(name))).toEqual([
        "sessions.db",
        expect.stringMatching(/^sessions\.migrated-/),
      ]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses creds_only and full without a project id", async () => {
    await expect(createSessionStore({ dataDir: "/tmp/unused", mode: "full" })).rejects.toThrow(/FIRESTORE_PROJECT_ID/);
  });
});
