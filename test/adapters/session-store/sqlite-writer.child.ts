// A process that writes batches to a SQLite session store and prints "acked N" after each setMany
// resolves; the kill -9 test kills it mid-stream and checks what a new store finds.
import { SqliteSessionStore } from "../../../src/adapters/session-store/sqlite/sqlite.session-store.ts";
import type { StoredValue } from "../../../src/domain/ports/session-store.port.ts";

const path = process.argv[2]!;
const store = new SqliteSessionStore({ path });
const filler = Buffer.alloc(64 * 1024, 7);
for (let i = 1; ; i++) {
  // Two sessions per round, in one event-loop turn: they share a group commit.
  const batch = (n: number) =>
    new Map<string, StoredValue | null>([
      ["a", n],
      ["b", n],
      [`own-${n}`, { n, filler }],
      [`own-${n - 3}`, null],
    ]);
  await Promise.all([store.setMany("s1", batch(i)), store.setMany("s2", batch(i))]);
  process.stdout.write(`acked ${i}\n`);
}
