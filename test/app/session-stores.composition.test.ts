import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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

  it("refuses creds_only and full without a project id", async () => {
    await expect(createSessionStore({ dataDir: "/tmp/unused", mode: "full" })).rejects.toThrow(/FIRESTORE_PROJECT_ID/);
  });
});
