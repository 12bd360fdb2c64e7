import type { StoredValue } from "../../../domain/ports/session-store.port.ts";

/**
 * Deep copy of a stored value in which every binary leaf is a real `Buffer`.
 * Stores may hand back plain `Uint8Array`s, but Baileys calls Buffer methods
 * on its keys (`.toString('base64')`, `.equals`, `Buffer.concat` checks), so
 * a bare Uint8Array would break it far from here. Buffers are viewed, not
 * copied.
 */
export function reviveBuffers(value: StoredValue): unknown {
  if (value instanceof Uint8Array) {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (Array.isArray(value)) return value.map((item: StoredValue) => reviveBuffers(item));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, StoredValue>)) {
      Object.defineProperty(out, key, {
        value: reviveBuffers(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * A snapshot of a Baileys value as a `StoredValue`: binary leaves (Buffers)
 * pass through as they are, `undefined` properties are left out (as JSON
 * would), protobuf objects and Longs become their own enumerable fields.
 * Taking the snapshot when a write starts means an object Baileys keeps
 * mutating (the creds) is written in one consistent state.
 */
export function toStoredValue(value: unknown): StoredValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  switch (typeof value) {
    case "string":
    case "boolean":
    case "number":
      return value;
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      // Functions and symbols: JSON drops them too.
      return null;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => toStoredValue(item));
  const out: Record<string, StoredValue> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined || typeof item === "function") continue;
    Object.defineProperty(out, key, {
      value: toStoredValue(item),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
