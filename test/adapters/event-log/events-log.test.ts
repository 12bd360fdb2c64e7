import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { SqliteEventLog } from "../../../src/adapters/event-log/sqlite/sqlite.event-log.ts";
import { eventLogContract } from "../../contracts/event-log.contract.ts";
import { MemoryEventLog } from "../../fakes/memory-event-log.ts";
import { tempDir } from "../../support/temp-dir.ts";

eventLogContract("sqlite", async () => {
  const dir = await tempDir("events-");
  const log = new SqliteEventLog({ path: join(dir.path, "events.db"), synchronous: "normal" });
  return {
    log,
    async cleanup() {
      await log.close();
      await dir.remove();
    },
  };
});

eventLogContract("memory", async () => {
  const log = new MemoryEventLog();
  return { log, cleanup: () => log.close() };
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

it("sqlite: keeps events and the id sequence across a reopen, in a file only its owner can read", async () => {
  const dir = await tempDir("events-");
  cleanups.push(dir.remove);
  const path = join(dir.path, "events.db");
  const first = new SqliteEventLog({ path });
  const a = await first.append({ type: "session.state", body: "{}", at: new Date() });
  await first.prune(new Date(Date.now() + 1000));
  await first.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const second = new SqliteEventLog({ path });
  cleanups.push(() => second.close());
  expect(await second.newestId()).toBe(a.id);
  const b = await second.append({ type: "session.state", body: "{}", at: new Date() });
  expect(Number(b.id)).toBe(Number(a.id) + 1);
});
