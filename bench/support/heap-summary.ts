// What grew between two V8 heap snapshots (e.g. written by memory-probe.ts
// with BENCH_HEAP_SNAPSHOT_DIR): live bytes by kind of object, largest
// growth first, divided by `per` (e.g. the sessions added in between).
//
//   npx tsx bench/support/heap-summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot [per] [rows]
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size by "type name" (an object's constructor, a closure's function name, "string", "code"...). */
function bytesByKind(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]!]!;
    // Strings and code are many small distinct names: one row each.
    const name = ["string", "concatenated string", "sliced string", "code", "number"].includes(type)
      ? ""
      : snap.strings[snap.nodes[i + nameAt]!]!.slice(0, 60);
    const kind = `${type} ${name}`.trim();
    const row = out.get(kind) ?? { bytes: 0, count: 0 };
    row.bytes += snap.nodes[i + sizeAt]!;
    row.count++;
    out.set(kind, row);
  }
  return out;
}

const [before, after, perArg, rowsArg] = process.argv.slice(2);
if (!before || !after) {
  console.error("usage: heap-summary.ts BEFORE.heapsnapshot AFTER.heapsnapshot [per] [rows]");
  process.exit(2);
}
const per = Number(perArg ?? 1);
const a = bytesByKind(before);
const b = bytesByKind(after);
const rows = [...b].map(([kind, { bytes, count }]) => ({
  kind,
  bytes: bytes - (a.get(kind)?.bytes ?? 0),
  count: count - (a.get(kind)?.count ?? 0),
}));
const total = rows.reduce((sum, r) => sum + r.bytes, 0);
console.log(`live heap growth: ${(total / 1024 / per).toFixed(1)} KB per unit (${per} units)`);
for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, Number(rowsArg ?? 25)))
  console.log(
    `${(r.bytes / 1024 / per).toFixed(1).padStart(9)} KB  ${(r.count / per).toFixed(0).padStart(7)} objects  ${r.kind}`,
  );
