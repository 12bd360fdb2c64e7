import { randomFillSync } from "node:crypto";

// Random bytes are drawn in blocks: one getrandom call per id cost ~9% of the
// accept path's CPU. 10 random bytes per id, 410 ids per refill.
const POOL_SIZE = 4096;
const RANDOM_BYTES_PER_ID = 10;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits. Ids of messages accepted later sort later, so the store's id index
 * grows at its end instead of being written all over (a random v4 id touched
 * a new page of the index for almost every message).
 */
export function newMessageId(now: number): string {
  if (offset + RANDOM_BYTES_PER_ID > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(now, 0, 6);
  pool.copy(bytes, 6, offset, offset + RANDOM_BYTES_PER_ID);
  offset += RANDOM_BYTES_PER_ID;
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
