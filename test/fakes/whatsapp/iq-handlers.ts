import {
  getBinaryNodeChild,
  getBinaryNodeChildBuffer,
  getBinaryNodeChildren,
  getBinaryNodeChildUInt,
  S_WHATSAPP_NET,
} from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { SimConnection } from "./connection.ts";
import type { SimContext } from "./context.ts";
import type { RealDevice } from "./registry.ts";
import { bundleToNode } from "./signal-peer.ts";
import { answerUsync } from "./usync.ts";

/** An IQ answered with `<error code text/>`. */
export class IqError extends Error {
  constructor(
    readonly code: number,
    text: string,
  ) {
    super(text);
  }
}

type IqHandler = (
  conn: SimConnection,
  iq: BinaryNode,
  ctx: SimContext,
) => BinaryNode[] | undefined | Promise<BinaryNode[] | undefined>;

/** Handlers the pairing module contributes (they need the pairing state). */
export type ExtraIqHandlers = Record<string, IqHandler>;

function firstChild(iq: BinaryNode): BinaryNode | undefined {
  return Array.isArray(iq.content) ? iq.content[0] : undefined;
}

function loggedIn(conn: SimConnection): RealDevice {
  if (!conn.device) throw new IqError(401, "not-authorized");
  return conn.device;
}

function storeUpload(device: RealDevice, iq: BinaryNode): void {
  const registrationId = getBinaryNodeChildUInt(iq, "registration", 4);
  const identity = getBinaryNodeChildBuffer(iq, "identity");
  if (registrationId !== undefined) device.registrationId = registrationId;
  if (identity) device.identityKey = Buffer.from(identity);
  const skey = getBinaryNodeChild(iq, "skey");
  if (skey) storeSignedPreKey(device, skey);
  for (const key of getBinaryNodeChildren(getBinaryNodeChild(iq, "list"), "key")) {
    const keyId = getBinaryNodeChildUInt(key, "id", 3);
    const publicKey = getBinaryNodeChildBuffer(key, "value");
    if (keyId !== undefined && publicKey) device.preKeys.push({ keyId, publicKey: Buffer.from(publicKey) });
  }
}

function storeSignedPreKey(device: RealDevice, skey: BinaryNode): void {
  const keyId = getBinaryNodeChildUInt(skey, "id", 3);
  const publicKey = getBinaryNodeChildBuffer(skey, "value");
  const signature = getBinaryNodeChildBuffer(skey, "signature");
  if (keyId !== undefined && publicKey && signature) {
    device.signedPreKey = { keyId, publicKey: Buffer.from(publicKey), signature: Buffer.from(signature) };
  }
}

/** `encrypt get <key>`: one bundle per requested jid, fresh one-time prekeys. */
async function fetchBundles(iq: BinaryNode, ctx: SimContext): Promise<BinaryNode[]> {
  const users: BinaryNode[] = [];
  for (const request of getBinaryNodeChildren(getBinaryNodeChild(iq, "key"), "user")) {
    const jid = request.attrs.jid;
    const resolved = jid ? ctx.registry.resolve(jid) : undefined;
    if (!jid || !resolved || !ctx.registry.isOnWhatsApp(resolved.user.phone)) continue;
    if (resolved.device === 0) {
      users.push(bundleToNode(jid, await resolved.user.phoneDevice.freshBundle()));
      continue;
    }
    const bundle = resolved.user.devices.get(resolved.device)?.takeBundle();
    if (bundle) users.push(bundleToNode(jid, bundle));
    else ctx.logger.warn({ jid }, "prekey fetch for a device without a bundle");
  }
  return [{ tag: "list", attrs: {}, content: users }];
}

const PRIVACY: Record<string, string> = {
  readreceipts: "all",
  last: "all",
  online: "all",
  profile: "all",
  status: "contacts",
  groupadd: "all",
  calladd: "all",
  messages: "all",
};

const handlers: Record<string, IqHandler> = {
  "encrypt:get:count": (conn) => [{ tag: "count", attrs: { value: String(loggedIn(conn).preKeys.length) } }],
  "encrypt:set:registration": (conn, iq) => {
    storeUpload(loggedIn(conn), iq);
    return undefined;
  },
  "encrypt:set:rotate": (conn, iq) => {
    const skey = getBinaryNodeChild(getBinaryNodeChild(iq, "rotate"), "skey");
    if (skey) storeSignedPreKey(loggedIn(conn), skey);
    return undefined;
  },
  // Baileys only checks that a <digest> comes back.
  "encrypt:get:digest": (conn) => {
    const device = loggedIn(conn);
    return [{ tag: "digest", attrs: { count: String(device.preKeys.length) } }];
  },
  "encrypt:get:key": (_conn, iq, ctx) => fetchBundles(iq, ctx),
  "usync:get:usync": (_conn, iq, ctx) => answerUsync(iq, ctx.registry),
  "passive:set:*": () => undefined,
  "w:p:get:ping": () => undefined,
  "w:stats:*:*": () => undefined,
  "abt:get:props": () => [
    {
      tag: "props",
      attrs: { protocol: "1", hash: "simulator" },
      content: [{ tag: "prop", attrs: { name: "simulator", value: "true" } }],
    },
  ],
  "blocklist:get:*": () => [{ tag: "list", attrs: {} }],
  "blocklist:set:*": () => undefined,
  "privacy:get:privacy": () => [
    {
      tag: "privacy",
      attrs: {},
      content: Object.entries(PRIVACY).map(([name, value]) => ({ tag: "category", attrs: { name, value } })),
    },
  ],
  "privacy:set:privacy": () => undefined,
  "privacy:set:tokens": () => [{ tag: "tokens", attrs: {} }],
  "privacy:get:tokens": () => [{ tag: "tokens", attrs: {} }],
  "disappearing_mode:*:*": () => undefined,
  "status:set:*": () => undefined,
  "w:profile:picture:get:picture": () => {
    throw new IqError(404, "item-not-found");
  },
  "w:m:set:media_conn": (_conn, _iq, ctx) => [ctx.media.connNode()],
  "md:set:remove-companion-device": (conn) => {
    loggedIn(conn).removed = true;
    return undefined;
  },
  "urn:xmpp:whatsapp:dirty:set:*": () => undefined,
};

/**
 * Answers an IQ from a client. Known IQs get a result; an unknown one gets an
 * error reply (never silence), is logged and counted in `ctx.unknownIqs`.
 */
export async function answerIq(
  conn: SimConnection,
  iq: BinaryNode,
  ctx: SimContext,
  extra: ExtraIqHandlers,
): Promise<void> {
  const xmlns = iq.attrs.xmlns ?? "";
  const type = iq.attrs.type ?? "";
  const child = firstChild(iq)?.tag ?? "";
  if (conn.device) ctx.log.iq(conn.device.user.phone, `${xmlns}:${type}:${child}`);
  const handler =
    extra[`${xmlns}:${type}:${child}`] ??
    handlers[`${xmlns}:${type}:${child}`] ??
    handlers[`${xmlns}:${type}:*`] ??
    handlers[`${xmlns}:*:*`];
  const reply = (attrs: Record<string, string>, content?: BinaryNode[]): void =>
    conn.send({ tag: "iq", attrs: { from: S_WHATSAPP_NET, id: iq.attrs.id ?? "", ...attrs }, content });
  if (!handler) {
    ctx.unknownIqs.push({ xmlns, type, child, at: Date.now() });
    if (ctx.unknownIqs.length > 1_000) ctx.unknownIqs.shift();
    ctx.logger.warn({ conn: conn.id, xmlns, type, child }, "unknown iq answered with an error");
    reply({ type: "error" }, [{ tag: "error", attrs: { code: "501", text: "feature-not-implemented" } }]);
    return;
  }
  try {
    const content = await handler(conn, iq, ctx);
    reply({ type: "result" }, content);
  } catch (err) {
    const code = err instanceof IqError ? err.code : 500;
    ctx.logger.warn({ conn: conn.id, xmlns, type, child, err: String(err) }, "iq failed");
    reply({ type: "error" }, [{ tag: "error", attrs: { code: String(code), text: String((err as Error).message) } }]);
  }
}
