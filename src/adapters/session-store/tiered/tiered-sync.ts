import type { FirestoreAuthStateMode } from "../../../domain/ports/session-store.port.ts";
import type { TierSessionMeta, VersionedSessionTier, VersionedWrite } from "../shared/versioned-tier.ts";

export type SyncOutcome =
  | { readonly action: "none" }
  | { readonly action: "restored"; readonly keys: number; readonly seq: number }
  | { readonly action: "backfilled"; readonly keys: number; readonly seq: number };

/**
 * Reconciles one session between the disk (local) and Firestore (remote) at
 * start, by the session sequences:
 *
 * - remote ahead of local (`r.seq > l.seq`: the disk is empty, lost, or an
 *   old backup): restore. Each remote key lands on the disk only over an
 *   older local version; when the remote copy is complete, local keys it
 *   lacks are deleted (they were deleted later). The disk never loses a key
 *   newer than Firestore's.
 * - local at or ahead of remote: the disk saw every write Firestore saw, so
 *   it is the reference. Backfill the keys this mode homes in Firestore
 *   (creds, or all), each only over an older remote version, and (full mode)
 *   delete remote keys the disk no longer has. Firestore never loses a key
 *   newer than the disk's.
 *
 * The caller holds the session's lock, so no batch interleaves.
 */
export async function syncSession(
  session: string,
  mode: Exclude<FirestoreAuthStateMode, "off">,
  local: VersionedSessionTier,
  remote: VersionedSessionTier,
  isCredsKey: (key: string) => boolean,
): Promise<SyncOutcome> {
  let l = await local.sessionMeta(session);
  const r = await remote.sessionMeta(session);
  if (r.seq > l.seq) return restore(session, local, remote, r);
  const localEntries = await local.entriesVersioned(session);
  if (l.seq === 0 && localEntries.size > 0) {
    // Keys written by something that does not version them (a Baileys folder dropped in) keep
    // version 0; the session itself needs a sequence above 0, or a cold start would not see it.
    await local.applyVersioned(session, [], { seq: 1 });
    l = await local.sessionMeta(session);
  }
  const inScope = mode === "full" ? () => true : isCredsKey;
  const wantComplete = mode === "full";
  if (l.seq === r.seq && r.complete === wantComplete && mode === "full") return { action: "none" };
  const remoteEntries = await remote.entriesVersioned(session);
  const writes: VersionedWrite[] = [];
  for (const [key, entry] of localEntries) {
    if (!inScope(key)) continue;
    const there = remoteEntries.get(key);
    if (there === undefined || there.version < entry.version)
      writes.push({ key, value: entry.value, version: entry.version });
  }
  for (const [key, entry] of remoteEntries) {
    if (inScope(key) && !localEntries.has(key) && entry.version < l.seq)
      writes.push({ key, value: null, version: l.seq });
  }
  if (writes.length === 0 && l.seq === r.seq && r.complete === wantComplete) return { action: "none" };
  if (l.seq === 0 && writes.length === 0) return { action: "none" };
  await remote.applyVersioned(session, writes, { seq: l.seq, complete: wantComplete });
  return { action: "backfilled", keys: writes.length, seq: l.seq };
}

async function restore(
  session: string,
  local: VersionedSessionTier,
  remote: VersionedSessionTier,
  r: TierSessionMeta,
): Promise<SyncOutcome> {
  const remoteEntries = await remote.entriesVersioned(session);
  const localEntries = await local.entriesVersioned(session);
  const writes: VersionedWrite[] = [];
  for (const [key, entry] of remoteEntries) {
    const here = localEntries.get(key);
    if (here === undefined || here.version < entry.version)
      writes.push({ key, value: entry.value, version: entry.version });
  }
  if (r.complete) {
    for (const [key, entry] of localEntries) {
      if (!remoteEntries.has(key) && entry.version < r.seq) writes.push({ key, value: null, version: r.seq });
    }
  }
  await local.applyVersioned(session, writes, { seq: r.seq });
  return { action: "restored", keys: writes.length, seq: r.seq };
}
