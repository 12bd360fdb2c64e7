import { createHash } from "node:crypto";
import type { StoredValue } from "../../../domain/ports/session-store.port.ts";

/**
 * The value codec of the Firestore store: one binary blob per value, stored
 * as Firestore Bytes. Layout: `GWS1` | u32 length of the JSON | JSON | the
 * binary leaves, back to back. In the JSON a binary leaf is `{"$b":[offset,
 * length]}` and an object key that starts with `$` gets one more `$`, so no
 * value can be mistaken for a binary leaf (unlike BufferJSON). Storing one
 * blob sidesteps Firestore's refusal of nested arrays and keeps binary leaves
 * at their real size instead of base64.
 */
const MAGIC = Buffer.from("GWS1");

export function encodeValue(value: StoredValue): Buffer {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const walk = (node: StoredValue): unknown => {
    if (node instanceof Uint8Array) {
      blobs.push(node);
      const ref = { $b: [offset, node.byteLength] };
      offset += node.byteLength;
      return ref;
    }
    if (Array.isArray(node)) return node.map((item: StoredValue) => walk(item));
    if (node !== null && typeof node === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node as Record<string, StoredValue>)) {
        if (v !== undefined) setOwn(out, k.startsWith("$") ? `$${k}` : k, walk(v));
      }
      return out;
    }
    if (typeof node === "number" && !Number.isFinite(node))
      throw new TypeError("session store values must be finite numbers");
    return node;
  };
  const json = Buffer.from(JSON.stringify(walk(value)), "utf8");
  const header = Buffer.alloc(8);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(json.length, 4);
  return Buffer.concat([header, json, ...blobs]);
}

/** @throws TypeError when the blob is not a value this codec wrote. */
export function decodeValue(blob: Uint8Array): StoredValue {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) throw new TypeError("not a session store value");
  const jsonLength = buf.readUInt32BE(4);
  if (8 + jsonLength > buf.length) throw new TypeError("truncated session store value");
  const tail = buf.subarray(8 + jsonLength);
  const walk = (node: unknown): StoredValue => {
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === "object") {
      const record = node as Record<string, unknown>;
      const ref = record["$b"];
      if (Array.isArray(ref) && Object.keys(record).length === 1) {
        const [start, length] = ref as [number, number];
        if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || start + length > tail.length) {
          throw new TypeError("binary leaf out of range");
        }
        return Buffer.from(tail.subarray(start, start + length));
      }
      const out: Record<string, StoredValue> = {};
      for (const [k, v] of Object.entries(record)) setOwn(out, k.startsWith("$") ? k.slice(1) : k, walk(v));
      return out;
    }
    if (node === null || typeof node === "boolean" || typeof node === "number" || typeof node === "string") return node;
    throw new TypeError("unexpected JSON node");
  };
  return walk(JSON.parse(buf.subarray(8, 8 + jsonLength).toString("utf8")) as unknown);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Document id of a key. Firestore ids may not contain `/`, be `.` or `..`,
 * match `__.*__`, or exceed 1500 bytes. We escape `%` and `/`, and a leading
 * `.` or `_`, as `%XX`; the empty key is `%E`; an id that would pass 1500
 * bytes becomes `%H<sha256>`. The mapping is injective; the key itself is
 * kept in the document (field `k`), so nothing ever has to decode an id.
 */
export function keyDocId(key: string): string {
  if (key === "") return "%E";
  let id = key.replace(/%/g, "%25").replace(/\//g, "%2F");
  if (id.startsWith(".")) id = `%2E${id.slice(1)}`;
  else if (id.startsWith("_")) id = `%5F${id.slice(1)}`;
  if (Buffer.byteLength(id, "utf8") <= 1500) return id;
  return `%H${createHash("sha256").update(key, "utf8").digest("hex")}`;
}

/** Bytes of one part: a document is at most 1 MiB, and the key and field names need room too. */
export const PART_BYTES = 900_000;

export function splitParts(blob: Buffer): Buffer[] {
  if (blob.length <= PART_BYTES) return [blob];
  const parts: Buffer[] = [];
  for (let start = 0; start < blob.length; start += PART_BYTES) parts.push(blob.subarray(start, start + PART_BYTES));
  return parts;
}
