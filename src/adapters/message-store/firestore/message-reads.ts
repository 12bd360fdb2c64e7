import type { CollectionReference, Query } from "firebase-admin/firestore";
import type { Message } from "../../../domain/message.ts";
import type { ListFilter, Page, QueueDepth } from "../../../domain/ports/message-store.port.ts";
import { decodeCursor, decodeTimeCursor, encodeCursor, encodeTimeCursor } from "../../shared/sqlite/cursor.ts";
import { docToMessage, routeKey, type MessageDoc } from "./message-doc.ts";
import type { LineDoc } from "./recipient-lines.ts";

// The FirestoreMessageStore's reads that change nothing: pages, depths, media
// references. Each is one or two queries; the indexes they need are in
// firestore.indexes.json.

const MAX_LIST_LIMIT = 1000;

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_LIST_LIMIT;
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Newest first (by `seq`), filtered by equality, after the cursor; one document more tells whether a next page exists. */
export async function listPage(messages: CollectionReference, filter: ListFilter): Promise<Page<Message>> {
  const limit = clampLimit(filter.limit);
  let query: Query = messages;
  if (filter.direction !== undefined) query = query.where("direction", "==", filter.direction);
  if (filter.status !== undefined) query = query.where("status", "==", filter.status);
  if (filter.session !== undefined) query = query.where("session", "==", filter.session);
  query = query.orderBy("seq", "desc");
  if (filter.cursor !== undefined) query = query.startAfter(decodeCursor(filter.cursor));
  const docs = (await query.limit(limit + 1).get()).docs.map((d) => d.data() as MessageDoc);
  const page = docs.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(docToMessage), nextCursor: docs.length > limit && last ? encodeCursor(last.seq) : null };
}

/** Changed at or after `since`, oldest change first, ties in acceptance order. */
export async function changedPage(
  messages: CollectionReference,
  since: Date,
  limit: number,
  cursor: string | undefined,
): Promise<Page<Message>> {
  const count = clampLimit(limit);
  let query = messages.where("updatedAt", ">=", since.getTime()).orderBy("updatedAt").orderBy("seq");
  if (cursor !== undefined) {
    const after = decodeTimeCursor(cursor);
    query = query.startAfter(after.at, after.seq);
  }
  const docs = (await query.limit(count + 1).get()).docs.map((d) => d.data() as MessageDoc);
  const page = docs.slice(0, count);
  const last = page.at(-1);
  const nextCursor = docs.length > count && last ? encodeTimeCursor(last.updatedAt, last.seq) : null;
  return { items: page.map(docToMessage), nextCursor };
}

/** Depth per route from the recipients' lines: one read per recipient with messages waiting, never one per message. */
export async function depthsOfLines(lines: CollectionReference, now: Date): Promise<QueueDepth[]> {
  const open = await lines.where("open", ">", 0).get();
  const routes = new Map<string, { provider: string; session: string; depth: number; oldest: number }>();
  for (const snap of open.docs) {
    const line = snap.data() as LineDoc;
    const key = routeKey(line);
    const route = routes.get(key) ?? { provider: line.provider, session: line.session, depth: 0, oldest: Infinity };
    route.depth += line.open;
    route.oldest = Math.min(route.oldest, line.headCreatedAt ?? Infinity);
    routes.set(key, route);
  }
  return [...routes.values()]
    .sort((a, b) => a.provider.localeCompare(b.provider) || a.session.localeCompare(b.session))
    .map(({ provider, session, depth, oldest }) => ({
      provider,
      session,
      depth,
      oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, now.getTime() - oldest) : 0,
    }));
}

/** Whether a message waiting or in flight, or one changed at or after `since`, holds the file. */
export async function mediaHeld(messages: CollectionReference, mediaId: string, since: Date): Promise<boolean> {
  const holders = messages.where("mediaIds", "array-contains", mediaId);
  const [waiting, recent] = await Promise.all([
    holders.where("unfinished", "==", true).limit(1).select().get(),
    holders.where("updatedAt", ">=", since.getTime()).limit(1).select().get(),
  ]);
  return !waiting.empty || !recent.empty;
}
