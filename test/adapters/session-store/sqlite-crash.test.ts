import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";
import { sqliteStoreHarness } from "./sqlite-store-harness.ts";

const h = sqliteStoreHarness("sqlite-sessions-crash-");

/** Runs the writer child until it has acknowledged `atLeast` rounds, kills it with SIGKILL, returns the last ack. */
async function killWriterAfter(path: string, atLeast: number): Promise<number> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(import.meta.dirname, "sqlite-writer.child.ts"), path],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let acked = 0;
  let buffered = "";
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) acked = Math.max(acked, Number(/^acked (\d+)$/.exec(line)?.[1] ?? 0));
      if (acked >= atLeast && child.kill("SIGKILL")) resolve();
    });
  });
  await exited;
  return acked;
}

describe("SqliteSessionStore after kill -9", () => {
  it("keeps every acknowledged setMany, and each batch whole or not at all", async () => {
    const acked = await killWriterAfter(h.path, 25);
    const store = h.open();
    for (const session of ["s1", "s2"]) {
      const all = await store.entries(session);
      const a = all.get("a") as number;
      // The batch in flight at the kill may have committed; none acknowledged is missing.
      expect(a).toBeGreaterThanOrEqual(acked);
      expect(all.get("b")).toBe(a);
      const own = [...all.keys()].filter((key) => key.startsWith("own-")).sort();
      expect(own).toEqual([`own-${a - 2}`, `own-${a - 1}`, `own-${a}`].sort());
      expect((all.get(`own-${a}`) as Record<string, StoredValue>)["n"]).toBe(a);
      expect((await store.sessionMeta(session)).seq).toBe(a);
    }
  });
});
