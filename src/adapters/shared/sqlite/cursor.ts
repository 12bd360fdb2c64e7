import { Buffer } from "node:buffer";
import { DomainError } from "../../../domain/errors.ts";
import type { Param } from "./statements.ts";

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
  if (!Number.isSafeInteger(seq)) throw notACursor();
  return seq;
}

function notACursor(): DomainError {
  return new DomainError("REQUEST.INVALID", "cursor: not a cursor returned by this API", [
    { field: "cursor", message: "not a cursor returned by this API" },
  ]);
}

/**
 * One page of a table, newest first (by `seq`), after an optional cursor,
 * with equality filters on columns (names are ours, values are bound).
 * Reads one row more than asked to tell whether another page exists.
 */
export function readPage<Row extends { seq: number }, T>(
  read: (sql: string, params: readonly Param[]) => Row[],
  table: string,
  filters: Readonly<Record<string, Param | undefined>>,
  cursor: string | undefined,
  limit: number,
  toItem: (row: Row) => T,
): { items: T[]; nextCursor: string | null } {
  const where: string[] = [];
  const params: Param[] = [];
  if (cursor !== undefined) {
    where.push("seq < ?");
    params.push(decodeCursor(cursor));
  }
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  const rows = read(`SELECT * FROM ${table} ${clause} ORDER BY seq DESC LIMIT ?`, [...params, limit + 1]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(toItem), nextCursor: rows.length > limit && last ? encodeCursor(last.seq) : null };
}

/** A cursor over rows ordered by a time and then `seq`: base64url of "time.seq". */
export function encodeTimeCursor(at: number, seq: number): string {
  return Buffer.from(`${at}.${seq}`, "utf8").toString("base64url");
}

/** Decodes a cursor from {@link encodeTimeCursor}; anything else is a client error naming `cursor`. */
export function decodeTimeCursor(cursor: string): { at: number; seq: number } {
  const match = /^(\d{1,16})\.([1-9]\d{0,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  const at = Number(match?.[1]);
  const seq = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(at) || !Number.isSafeInteger(seq)) throw notACursor();
  return { at, seq };
}

/**
 * One page of a table in the order of a time column, oldest first (ties by
 * `seq`), from `since` on or after an optional cursor. The column needs an
 * index on (column, seq).
 */
export function readTimePage<Row extends { seq: number }, T>(
  read: (sql: string, params: readonly Param[]) => Row[],
  table: string,
  column: keyof Row & string,
  since: number,
  cursor: string | undefined,
  limit: number,
  toItem: (row: Row) => T,
): { items: T[]; nextCursor: string | null } {
  const after = cursor === undefined ? undefined : decodeTimeCursor(cursor);
  const rows = after
    ? read(`SELECT * FROM ${table} WHERE (${column}, seq) > (?, ?) ORDER BY ${column}, seq LIMIT ?`, [
        after.at,
        after.seq,
        limit + 1,
      ])
    : read(`SELECT * FROM ${table} WHERE ${column} >= ? ORDER BY ${column}, seq LIMIT ?`, [since, limit + 1]);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toItem),
    nextCursor: rows.length > limit && last ? encodeTimeCursor(Number(last[column]), last.seq) : null,
  };
}
