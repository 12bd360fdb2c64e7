import { Buffer } from "node:buffer";
import { DomainError } from "../../../domain/errors.ts";

/**
 * List cursors are base64url of the last row's sequence number: opaque to
 * clients, stable while rows are added (new rows only get larger numbers).
 */
export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), "utf8").toString("base64url");
}

/** Decodes a cursor from {@link encodeCursor}; anything else is a client error naming `cursor`. */
export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const seq = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    throw new DomainError("REQUEST.INVALID", "cursor: not a cursor returned by this API", [
      { field: "cursor", message: "not a cursor returned by this API" },
    ]);
  }
  return seq;
}
