import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FirestoreSessionLease } from "../../../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { FirestoreSessionStore } from "../../../src/adapters/session-store/firestore/firestore.session-store.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

const LEASE_MS = 1_500;

/** The JSON lines a child prints, awaited one kind at a time. */
function lines(child: ChildProcess) {
  const seen: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let buffer = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf("\n"); end >= 0; end = buffer.indexOf("\n")) {
      seen.push(JSON.parse(buffer.slice(0, end)) as Record<string, unknown>);
      buffer = buffer.slice(end + 1);
    }
    waiters.splice(0).forEach((wake) => wake());
  });
  return {
    seen,
    /** The next line of this kind after the first `from` lines. */
    async next(event: string, from = 0): Promise<{ line: Record<string, unknown>; index: number }> {
      for (;;) {
        const index = seen.findIndex((line, i) => i >= from && line["event"] === event);
        if (index >= 0) return { line: seen[index]!, index };
        if (child.exitCode !== null) throw new Error(`child exited before "${event}": ${JSON.stringify(seen)}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

describe.skipIf(!firestoreEmulatorAvailable())("a paused owner process (SIGSTOP, emulator)", () => {
  let emulator: FirestoreEmulator;
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("loses its session to another instance; resumed, its write and its renewal are refused and the keys stay the new owner's", async () => {
    const script = fileURLToPath(new URL("./fixtures/lease-holder.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", script, emulator.projectId, emulator.host, "s1", String(LEASE_MS)],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, METADATA_SERVER_DETECTION: "none" } },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const where = { projectId: emulator.projectId, emulatorHost: emulator.host };
    const b = new FirestoreSessionLease({ ...where, instanceId: "b", leaseMs: LEASE_MS });
    const bStore = new FirestoreSessionStore({ ...where, fencing: { holder: b } });
    try {
      const out = lines(child);
      expect((await out.next("acquired")).line).toMatchObject({ token: 1 });
      const wrote = await out.next("wrote");
      // Paused while it sleeps between writes: never inside a transaction (see docs/cluster.md on locks).
      const idle = await out.next("idle", wrote.index + 1);
      child.kill("SIGSTOP");

      let taken = await b.acquire("s1");
      while (!taken.acquired) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        taken = await b.acquire("s1");
      }
      expect(taken).toMatchObject({ tookOver: true, lease: { owner: "b", token: 2 } });
      await bStore.setMany("s1", new Map([["pre-key-1", "b"]]));

      // Every line the child printed before it stopped has arrived by now (the takeover took a lease's time).
      const lastWritten = Math.max(
        ...out.seen.flatMap((line) => (line["event"] === "wrote" ? [line["n"] as number] : [])),
      );
      child.kill("SIGCONT");
      const refusedWrite = await out.next("write-refused", idle.index + 1);
      expect(refusedWrite.line).toMatchObject({ code: "SESSION.LEASE_LOST" });
      expect(refusedWrite.line["message"]).toContain("now held by b with token 2");
      const refusedRenew = await out.next("renew-refused", refusedWrite.index + 1);
      expect(refusedRenew.line["message"]).toContain("now held by b with token 2");
      expect(await exited).toBe(0);

      const stored = await bStore.getMany("s1", ["pre-key-1", "counter"]);
      expect(stored.get("pre-key-1")).toBe("b");
      expect(stored.get("counter")).toBe(lastWritten);
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGCONT");
        child.kill("SIGKILL");
      }
      await bStore.close();
      await b.close();
      if (stderr.trim() !== "") console.warn(stderr.slice(-2000));
    }
  }, 90_000);
});
