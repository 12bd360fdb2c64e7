import { randomBytes } from "node:crypto";
import type { SessionStore, StoredValue } from "../../src/domain/ports/session-store.port.ts";

/** One embedded store under test: how to open it on a data dir (a fresh instance each call: cold caches). */
export interface LocalStoreKind {
  readonly name: string;
  open(dataDir: string): SessionStore;
  /** Work the store defers past setMany (the disk store's checkpoints), so a phase does not pay for the last one. */
  settle(store: SessionStore): Promise<void>;
}

export const WARMUP = 5;

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

export function latency(samples: number[]): Latency {
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A 30-key batch: what Baileys writes after a handshake (20 prekeys, 10 Signal sessions). */
export function handshakeBatch(round: number): Map<string, StoredValue> {
  const entries = new Map<string, StoredValue>();
  for (let i = 0; i < 20; i++) {
    entries.set(`pre-key-${round * 30 + i}`, {
      keyPair: { public: randomBytes(33), private: randomBytes(32) },
      keyId: round * 30 + i,
    });
  }
  for (let i = 0; i < 10; i++) {
    entries.set(`session-40712345${i}.0`, {
      _sessions: { [randomBytes(33).toString("base64")]: { chain: randomBytes(1500), index: round } },
    } as StoredValue);
  }
  return entries;
}

/** One Signal session record, about the size Baileys writes per message. */
export function sessionRecord(i: number): Map<string, StoredValue> {
  return new Map<string, StoredValue>([
    ["session-407123456.0", { _sessions: { current: { chain: randomBytes(1500), index: i } } } as StoredValue],
  ]);
}

export const PRELOADED_KEYS = 850;

/** A linked session after its prekey upload: 850 keys. */
export function linkedSession(): Map<string, StoredValue> {
  const entries = new Map<string, StoredValue>();
  for (let i = 0; i < PRELOADED_KEYS; i++)
    entries.set(`pre-key-${i}`, { keyPair: { public: randomBytes(33), private: randomBytes(32) }, keyId: i });
  return entries;
}

/** A login's creds, about the size Baileys keeps (keys, account, a signed prekey). */
export function creds(i: number): StoredValue {
  return {
    noiseKey: { private: randomBytes(32), public: randomBytes(32) },
    signedIdentityKey: { private: randomBytes(32), public: randomBytes(32) },
    signedPreKey: {
      keyPair: { private: randomBytes(32), public: randomBytes(32) },
      signature: randomBytes(64),
      keyId: 1,
    },
    registrationId: i,
    advSecretKey: randomBytes(32).toString("base64"),
    me: { id: `4071234${String(i).padStart(5, "0")}:1@s.whatsapp.net`, name: `bench ${i}` },
    account: { details: randomBytes(200), accountSignatureKey: randomBytes(32), accountSignature: randomBytes(64) },
    platform: "smba",
  } as StoredValue;
}
