import type { StoredValue } from "../../../domain/ports/session-store.port.ts";

/**
 * Baileys' `BufferJSON` encoding: JSON in which every binary leaf is
 * `{"type":"Buffer","data":"<base64>"}`. It is what `useMultiFileAuthState`
 * writes, so files in this encoding can be exchanged with Baileys.
 *
 * Decoding is stricter than Baileys' reviver: only the tagged object (with a
 * base64 string, or the byte array `Buffer#toJSON` produces) becomes bytes.
 * Baileys also turns any object whose keys are all numeric and whose values
 * are all numbers into a Buffer; we do not, because that would corrupt
 * ordinary objects such as `{ "0": 1 }`. A plain object that happens to be
 * shaped `{type: "Buffer", data: string}` does come back as bytes: that
 * ambiguity is inherent to the format.
 */
export function encodeBufferJson(value: StoredValue): string {
  return JSON.stringify(toJsonTree(value));
}

/** @throws SyntaxError or TypeError when the text is not a valid encoding. */
export function decodeBufferJson(text: string): StoredValue {
  return fromJsonTree(JSON.parse(text) as unknown);
}

function toJsonTree(value: StoredValue): unknown {
  if (value instanceof Uint8Array) {
    return { type: "Buffer", data: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return value.map((item: StoredValue) => toJsonTree(item));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, StoredValue>)) {
      if (v !== undefined) setOwn(out, k, toJsonTree(v));
    }
    return out;
  }
  if (typeof value === "number" && !Number.isFinite(value))
    throw new TypeError("session store values must be finite numbers");
  return value;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromJsonTree(node: unknown): StoredValue {
  if (Array.isArray(node)) return node.map(fromJsonTree);
  if (node !== null && typeof node === "object") {
    const record = node as Record<string, unknown>;
    if (record["type"] === "Buffer" && Object.keys(record).length === 2) {
      const data = record["data"];
      if (typeof data === "string") {
        if (!BASE64.test(data) || data.length % 4 === 1) throw new TypeError("invalid base64 in a Buffer leaf");
        return Buffer.from(data, "base64");
      }
      if (Array.isArray(data) && data.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
        return Buffer.from(data as number[]);
      }
    }
    const out: Record<string, StoredValue> = {};
    for (const [k, v] of Object.entries(record)) setOwn(out, k, fromJsonTree(v));
    return out;
  }
  if (node === null || typeof node === "boolean" || typeof node === "number" || typeof node === "string") return node;
  throw new TypeError("unexpected JSON node");
}

// A key named "__proto__" must stay data, not replace the object's prototype.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
