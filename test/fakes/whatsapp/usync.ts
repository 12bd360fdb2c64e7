import { getBinaryNodeChild, getBinaryNodeChildren } from "@whiskeysockets/baileys";
import type { BinaryNode } from "@whiskeysockets/baileys";
import type { Registry, SimUser } from "./registry.ts";

function deviceListNode(user: SimUser): BinaryNode {
  const devices: BinaryNode[] = [{ tag: "device", attrs: { id: "0" } }];
  for (const device of user.activeDevices) {
    // Baileys drops non-zero devices without a key-index.
    devices.push({ tag: "device", attrs: { id: String(device.device), "key-index": String(device.keyIndex) } });
  }
  return {
    tag: "devices",
    attrs: {},
    content: [{ tag: "device-list", attrs: {}, content: devices }],
  };
}

function contactPhone(userNode: BinaryNode): string | undefined {
  const contact = getBinaryNodeChild(userNode, "contact");
  const content = contact?.content;
  if (content instanceof Uint8Array) return Buffer.from(content).toString("utf8");
  if (typeof content === "string") return content;
  return undefined;
}

/**
 * Answers a usync query: for each listed user, one child per requested
 * protocol. `devices` lists the simulated phone (0) and every linked device;
 * `lid` is mandatory for Baileys to send at all (Baileys stores the
 * PN-LID mapping it gives); `contact` says "in". A number made unknown to
 * WhatsApp gets `contact type=out` and nothing else: no devices, no LID.
 */
export function answerUsync(iq: BinaryNode, registry: Registry): BinaryNode[] {
  const usync = getBinaryNodeChild(iq, "usync");
  const protocols = (getBinaryNodeChild(usync, "query")?.content as BinaryNode[] | undefined) ?? [];
  const users = getBinaryNodeChildren(getBinaryNodeChild(usync, "list"), "user");
  const list: BinaryNode[] = [];
  for (const userNode of users) {
    const phone = contactPhone(userNode);
    const jid = userNode.attrs.jid ?? (phone ? `${phone.replace(/^\+/, "")}@s.whatsapp.net` : undefined);
    const resolved = jid ? registry.resolve(jid) : undefined;
    if (!jid || !resolved || !registry.isOnWhatsApp(resolved.user.phone)) {
      if (jid) list.push({ tag: "user", attrs: { jid }, content: [{ tag: "contact", attrs: { type: "out" } }] });
      continue;
    }
    const { user } = resolved;
    const isLid = jid.endsWith("@lid");
    const content: BinaryNode[] = [];
    for (const protocol of protocols) {
      switch (protocol.tag) {
        case "devices":
          content.push(deviceListNode(user));
          break;
        case "lid":
          if (!isLid) content.push({ tag: "lid", attrs: { val: user.lidJid } });
          break;
        case "contact":
          content.push({ tag: "contact", attrs: { type: "in" } });
          break;
        case "status":
          content.push({ tag: "status", attrs: { t: "0" }, content: Buffer.from("Hey there! I am using WhatsApp.") });
          break;
        case "disappearing_mode":
          content.push({ tag: "disappearing_mode", attrs: { duration: "0", t: "0" } });
          break;
        default:
          break;
      }
    }
    list.push({ tag: "user", attrs: { jid: isLid ? user.lidJid : user.jid }, content });
  }
  return [
    {
      tag: "usync",
      attrs: { sid: usync?.attrs.sid ?? "", mode: usync?.attrs.mode ?? "query", last: "true", index: "0" },
      content: [{ tag: "list", attrs: {}, content: list }],
    },
  ];
}
