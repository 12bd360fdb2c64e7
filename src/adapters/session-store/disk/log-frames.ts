import { createHash } from "node:crypto";

/**
 * How records sit in a log file: a u32 payload length, the first 8 bytes of
 * the payload's SHA-256, then the payload. A torn or corrupt record fails
 * the length or checksum test, which ends the log (see `write-ahead-log.ts`).
 */
const PREFIX = ".wal-";
const HEADER_BYTES = 12;

export function isLogFileName(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** The file name of one log generation of one store instance; names sort in the order records were written. */
export function logFileName(instance: string, generation: number): string {
  return `${PREFIX}${instance}-${generation.toString().padStart(10, "0")}`;
}

export function frameRecord(payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  checksum(payload).copy(header, 4);
  return Buffer.concat([header, payload]);
}

/** The intact records of a log, in order; everything from the first torn or corrupt record on is ignored. */
export function parseRecords(data: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(at);
    const end = at + HEADER_BYTES + length;
    if (end > data.length) break;
    const payload = data.subarray(at + HEADER_BYTES, end);
    if (!checksum(payload).equals(data.subarray(at + 4, at + HEADER_BYTES))) break;
    records.push(payload);
    at = end;
  }
  return records;
}

function checksum(payload: Buffer): Buffer {
  return createHash("sha256").update(payload).digest().subarray(0, 8);
}
