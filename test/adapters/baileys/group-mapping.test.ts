import type { GroupMetadata, WAMessage } from "@whiskeysockets/baileys";
import { describe, expect, it } from "vitest";
import {
  groupAddressToJid,
  groupJidToAddress,
  memberAddressToJid,
} from "../../../src/adapters/messaging/baileys/addresses.ts";
import { toGroupError } from "../../../src/adapters/messaging/baileys/group-errors.ts";
import {
  participantsUpdate,
  settingsUpdates,
  toGroupInfo,
} from "../../../src/adapters/messaging/baileys/group-mapping.ts";
import { GroupMetadataCache } from "../../../src/adapters/messaging/baileys/group-metadata-cache.ts";
import { toInboundMessage, type InboundContext } from "../../../src/adapters/messaging/baileys/inbound-mapping.ts";
import { outboundContent } from "../../../src/adapters/messaging/baileys/outbound-conversation.ts";
import { plainConversation } from "../../../src/domain/conversation.ts";
import { DomainError, ProviderError } from "../../../src/domain/errors.ts";
import type { Message } from "../../../src/domain/message.ts";
import { aSendingMessage } from "../../support/message-mother.ts";
import { mediaStore } from "./harness.ts";

const GROUP = "120363000000000001@g.us";
const PN = "15550002222@s.whatsapp.net";
const LID = "88880002222@lid";
const lids: Record<string, string> = { [LID]: PN };
const pnForLid = async (lid: string): Promise<string | null> => lids[lid] ?? null;

const context: InboundContext = {
  to: "whatsapp:+15550001111",
  pnForLid,
  lidForPn: async (pn) => (pn === PN ? LID : null),
  now: () => new Date(0),
  downloads: { idleTimeoutMs: 1_000, reupload: () => Promise.reject(new Error("no phone here")) },
};

function inGroup(key: Partial<WAMessage["key"]> & { participantAlt?: string }, text = "hi"): WAMessage {
  return {
    key: { remoteJid: GROUP, fromMe: false, id: "G1", ...key },
    message: { conversation: text },
    messageTimestamp: 1_800_000_000,
  };
}

describe("group addresses", () => {
  it("turns group addresses into jids and back, members by number or LID", () => {
    expect(groupAddressToJid("whatsapp:group:120363000000000001")).toBe(GROUP);
    expect(groupAddressToJid("whatsapp:+15550002222")).toBeUndefined();
    expect(groupJidToAddress(GROUP)).toBe("whatsapp:group:120363000000000001");
    expect(groupJidToAddress(PN)).toBeUndefined();
    expect(memberAddressToJid("whatsapp:+15550002222")).toBe(PN);
    expect(memberAddressToJid(LID)).toBe(LID);
    expect(memberAddressToJid("whatsapp:group:1")).toBeUndefined();
  });
});

describe("toInboundMessage in a group", () => {
  it("names the sender by number, the group and the participant in the conversation", async () => {
    const byLid = await toInboundMessage(inGroup({ participant: LID, participantAlt: PN }), context);
    const byPn = await toInboundMessage(inGroup({ participant: PN }), context);
    const mappedLid = await toInboundMessage(inGroup({ participant: LID }), context);
    const expected = {
      kind: "message",
      message: {
        from: "whatsapp:+15550002222",
        text: "hi",
        conversation: {
          kind: "text",
          group: "whatsapp:group:120363000000000001",
          participant: "whatsapp:+15550002222",
          lid: LID,
        },
      },
    };
    expect(byLid).toMatchObject({ ...expected, chat: { participantJid: LID } });
    expect(byPn).toMatchObject({ ...expected, chat: { participantJid: PN } });
    expect(mappedLid).toMatchObject(expected);
  });

  it("names a sender whose number is unknown by its LID; a message from nobody is skipped", async () => {
    const unknown = await toInboundMessage(inGroup({ participant: "77770001111@lid" }), context);
    const nobody = await toInboundMessage(inGroup({}), context);
    expect(unknown).toMatchObject({
      message: { from: "77770001111@lid", conversation: { participant: "77770001111@lid", lid: "77770001111@lid" } },
    });
    expect(nobody.kind).toBe("skipped");
  });

  it("reads replies and reactions in a group like in a 1:1 chat", async () => {
    const reply: WAMessage = {
      ...inGroup({ participant: PN }),
      message: { extendedTextMessage: { text: "yes", contextInfo: { stanzaId: "Q1", participant: LID } } },
    };
    const reaction: WAMessage = {
      ...inGroup({ participant: PN, id: "G2" }),
      message: { reactionMessage: { key: { remoteJid: GROUP, id: "Q1", participant: LID }, text: "👍" } },
    };
    expect(await toInboundMessage(reply, context)).toMatchObject({
      message: { text: "yes", conversation: { replyTo: "Q1", group: "whatsapp:group:120363000000000001" } },
    });
    expect(await toInboundMessage(reaction, context)).toMatchObject({
      message: { conversation: { kind: "reaction", reaction: { messageId: "Q1", emoji: "👍" } } },
    });
  });
});

function metadata(extra: Partial<GroupMetadata> = {}): GroupMetadata {
  return {
    id: GROUP,
    subject: "Team",
    owner: "15550001111@s.whatsapp.net",
    creation: 1_800_000_000,
    desc: "our group",
    participants: [
      { id: "15550001111@s.whatsapp.net", admin: "superadmin" },
      { id: LID, admin: "admin" },
      { id: "77770001111@lid", admin: null },
      { id: "99990003333@lid", phoneNumber: "15550003333@s.whatsapp.net", admin: null },
    ],
    ...extra,
  };
}

describe("toGroupInfo", () => {
  it("lists members by number when known, with roles and our own role", async () => {
    const info = await toGroupInfo(metadata(), { pn: "15550001111:7@s.whatsapp.net", lid: undefined }, pnForLid);
    expect(info).toEqual({
      id: "120363000000000001",
      address: "whatsapp:group:120363000000000001",
      subject: "Team",
      description: "our group",
      owner: "whatsapp:+15550001111",
      createdAt: new Date(1_800_000_000_000).toISOString(),
      participants: [
        { address: "whatsapp:+15550001111", lid: null, role: "superadmin" },
        { address: "whatsapp:+15550002222", lid: LID, role: "admin" },
        { address: "77770001111@lid", lid: "77770001111@lid", role: "member" },
        { address: "whatsapp:+15550003333", lid: "99990003333@lid", role: "member" },
      ],
      ourRole: "superadmin",
    });
  });

  it("finds us by our LID too, and says when we are not in the group", async () => {
    const byLid = await toGroupInfo(
      metadata(),
      { pn: "15559999999@s.whatsapp.net", lid: "77770001111:3@lid" },
      pnForLid,
    );
    const gone = await toGroupInfo(metadata(), { pn: "15559999999@s.whatsapp.net", lid: undefined }, pnForLid);
    expect(byLid?.ourRole).toBe("member");
    expect(gone?.ourRole).toBeNull();
  });
});

describe("group events", () => {
  it("reports member changes with addresses in phone form and who made them", async () => {
    const update = await participantsUpdate(
      {
        id: GROUP,
        author: LID,
        action: "add",
        participants: [{ id: "99990003333@lid", phoneNumber: "15550003333@s.whatsapp.net" }],
      },
      pnForLid,
    );
    expect(update).toEqual({
      group: "whatsapp:group:120363000000000001",
      action: "add",
      participants: ["whatsapp:+15550003333"],
      by: "whatsapp:+15550002222",
    });
  });

  it("reports a subject and a description change, and nothing for a whole group's metadata", async () => {
    const subject = await settingsUpdates({ id: GROUP, subject: "New", author: PN }, pnForLid);
    const description = await settingsUpdates({ id: GROUP, desc: "About" }, pnForLid);
    const snapshot = await settingsUpdates(metadata(), pnForLid);
    expect(subject).toEqual([
      {
        group: "whatsapp:group:120363000000000001",
        action: "subject",
        participants: [],
        by: "whatsapp:+15550002222",
        subject: "New",
      },
    ]);
    expect(description).toMatchObject([{ action: "description", description: "About", by: null }]);
    expect(snapshot).toEqual([]);
  });
});

/** A Boom as Baileys throws it: a status code, and data (a query's error code, or its error node). */
function boom(message: string, statusCode: number, data?: unknown): Error {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode }, data });
}

describe("toGroupError", () => {
  it("maps WhatsApp's query errors to GROUP codes (403: not in the group), a closed connection to a retryable provider error", () => {
    const notFound = toGroupError(boom("item-not-found", 500, 404), "1");
    const forbidden = toGroupError(boom("forbidden", 500, 403), "1");
    const notAdmin = toGroupError(boom("not-authorized", 500, 401), "1");
    const loggedOut = toGroupError(boom("Connection Failure", 401), "1");
    const metadataNotFound = toGroupError(boom("item-not-found", 404, { tag: "error" }), "1");
    const closed = toGroupError(boom("Connection Closed", 428), "1");
    expect(notFound).toBeInstanceOf(DomainError);
    expect((notFound as DomainError).code).toBe("GROUP.NOT_FOUND");
    expect((metadataNotFound as DomainError).code).toBe("GROUP.NOT_FOUND");
    expect((forbidden as DomainError).code).toBe("GROUP.NOT_FOUND");
    expect((notAdmin as DomainError).code).toBe("GROUP.NOT_ADMIN");
    expect(loggedOut).toBeInstanceOf(ProviderError);
    expect(closed).toBeInstanceOf(ProviderError);
    expect((closed as ProviderError).retryable).toBe(true);
  });
});

describe("GroupMetadataCache", () => {
  it("asks once for concurrent and later reads, again after an invalidation; a stale answer is not kept", async () => {
    let queries = 0;
    let release: (() => void) | undefined;
    const cache = new GroupMetadataCache(async () => {
      queries++;
      if (queries === 2) await new Promise<void>((resolve) => (release = resolve));
      return metadata({ subject: `v${queries}` });
    });
    const first = await Promise.all(Array.from({ length: 100 }, () => cache.get(GROUP)));
    expect(new Set(first.map((m) => m.subject))).toEqual(new Set(["v1"]));
    expect(queries).toBe(1);

    cache.invalidate(GROUP);
    const second = cache.get(GROUP);
    await new Promise((resolve) => setImmediate(resolve));
    cache.invalidate(GROUP); // a change while the query is out: its answer may predate it
    release!();
    expect((await second).subject).toBe("v2");
    expect((await cache.get(GROUP)).subject).toBe("v3");
    expect(queries).toBe(3);
  });
});

describe("outboundContent in a group", () => {
  const target = { providerMessageId: "Q1", fromMe: false, text: "who's in?" };
  const toGroup = (overrides: Partial<Message>): Message =>
    aSendingMessage({ to: "whatsapp:group:120363000000000001", text: "", ...overrides });

  it("names the sender of someone else's message in a reaction's key and a reply's quote; ours by fromMe", async () => {
    const store = mediaStore();
    const reaction = toGroup({ ...plainConversation("reaction"), reaction: { messageId: "x", emoji: "👍" }, target });
    const reply = toGroup({ text: "me", replyTo: "x", target });
    const toOurs = toGroup({ text: "me too", replyTo: "y", target: { ...target, fromMe: true } });

    const reacted = await outboundContent(reaction, GROUP, store, LID);
    const replied = await outboundContent(reply, GROUP, store, LID);
    const ours = await outboundContent(toOurs, GROUP, store, LID);

    expect(reacted.content).toMatchObject({ react: { key: { remoteJid: GROUP, id: "Q1", participant: LID } } });
    expect(replied.quoted?.key).toEqual({ remoteJid: GROUP, fromMe: false, id: "Q1", participant: LID });
    expect(ours.quoted?.key).toEqual({ remoteJid: GROUP, fromMe: true, id: "Q1" });
  });
});
