import type { StoredValue } from "../../../domain/ports/session-store.port.ts";
import { decodeValue, encodeValue, PART_BYTES } from "./firestore-codec.ts";

/** A write with its value already encoded and split into document-sized parts (`null` deletes). */
export interface EncodedWrite {
  readonly key: string;
  readonly version: number;
  readonly parts: readonly Buffer[] | null;
}

// One commit holds at most 500 writes and about 10 MiB; stay well inside both.
const MAX_OPS = 450;
const MAX_BYTES = 8 * 1024 * 1024;
// Deleting a value may also delete the parts of the old one, which we only learn inside the transaction.
const OLD_PARTS_ALLOWANCE = 1;

/**
 * Splits writes into chunks that each fit one commit (with the session
 * document). One chunk means the whole call can be one transaction.
 */
export function planChunks(writes: readonly EncodedWrite[]): EncodedWrite[][] {
  const chunks: EncodedWrite[][] = [];
  let current: EncodedWrite[] = [];
  let ops = 1;
  let bytes = 0;
  for (const write of writes) {
    const writeOps = (write.parts?.length ?? 1) + OLD_PARTS_ALLOWANCE;
    const writeBytes = (write.parts ?? []).reduce((sum, part) => sum + part.length, 0) + 2048;
    if (current.length > 0 && (ops + writeOps > MAX_OPS || bytes + writeBytes > MAX_BYTES)) {
      chunks.push(current);
      current = [];
      ops = 1;
      bytes = 0;
    }
    current.push(write);
    ops += writeOps;
    bytes += writeBytes;
  }
  if (current.length > 0 || chunks.length === 0) chunks.push(current);
  return chunks;
}

/** A staged batch as blobs of at most one part each (`[key, version, value-or-null]` list, value codec). */
export function encodeStaged(writes: readonly EncodedWrite[]): Buffer[] {
  const list: StoredValue[] = writes.map((w) => [w.key, w.version, w.parts === null ? null : Buffer.concat(w.parts)]);
  const blob = encodeValue(list);
  const blobs: Buffer[] = [];
  for (let start = 0; start < blob.length; start += PART_BYTES) blobs.push(blob.subarray(start, start + PART_BYTES));
  return blobs.length === 0 ? [blob] : blobs;
}

export function decodeStaged(blobs: readonly Buffer[]): EncodedWrite[] {
  const list = decodeValue(Buffer.concat(blobs)) as Array<[string, number, Uint8Array | null]>;
  return list.map(([key, version, value]) => ({
    key,
    version,
    parts: value === null ? null : splitBuffer(Buffer.from(value)),
  }));
}

function splitBuffer(blob: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < blob.length; start += PART_BYTES) parts.push(blob.subarray(start, start + PART_BYTES));
  return parts.length === 0 ? [blob] : parts;
}
