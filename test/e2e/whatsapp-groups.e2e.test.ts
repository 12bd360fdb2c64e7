import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { deriveWaMessageId } from "../../src/adapters/messaging/baileys/wa-message-id.ts";
import { startWhatsAppSimulator, type WhatsAppSimulator } from "../fakes/whatsapp/index.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.ts";
import { eventually, TEST_API_KEY } from "../support/in-process-gateway.ts";
import { seedLinkedSession } from "../support/linked-session.ts";
import { realMedia } from "../support/real-media.ts";
import { sha256Hex } from "../support/media-fixtures.ts";
import { startLinkedGateway, type LinkedGateway } from "../support/linked-gateway.ts";
import { tempDir } from "../support/temp-dir.ts";

// Groups through the whole product, as a new user would try them on the
// simulator: create a group, send it a message and a photo every member's
// phone decrypts, see a member's reply named by its sender, add a member who
// then receives the next message, and the group.updated webhooks.

const PHONE = "40711117777";
const MEMBERS = ["40722227771", "40722227772", "40722227773"];
const NEWCOMER = "40722227774";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface GroupView {
  id: string;
  address: string;
  subject: string;
  participants: Array<{ address: string; role: string }>;
  ourRole: string | null;
}

interface ControlMessage {
  id: string;
  replyTo?: string;
  kind: string;
  text: string | null;
  group?: string;
  decryptedBy?: string[];
  media?: { sha256: string };
}

function setup(): Promise<LinkedGateway> {
  return startLinkedGateway(PHONE, cleanups);
}

async function control<T>(sim: WhatsAppSimulator, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.controlUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  expect(res.ok).toBe(true);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

function atWhatsApp(sim: WhatsAppSimulator, messageId: string): Promise<ControlMessage> {
  const waId = deriveWaMessageId(messageId);
  return eventually(
    async () =>
      (await control<ControlMessage[]>(sim, "GET", `/control/messages?from=${PHONE}`)).find((m) => m.id === waId),
    20_000,
    `message ${waId} at WhatsApp`,
  );
}

describe("WhatsApp groups through the gateway", () => {
  it("creates a group, sends it text and a photo every member decrypts, and hears a member's reply", async () => {
    const { sim, gw, hooks } = await setup();
    const created = await gw.call("POST", "/sessions/default/groups", {
      body: { subject: "Book club", participants: MEMBERS.map((m) => `+${m}`) },
    });
    expect(created.status).toBe(201);
    const group = (await created.json()) as GroupView;
    expect(group).toMatchObject({ subject: "Book club", ourRole: "superadmin", address: `whatsapp:group:${group.id}` });
    expect(group.participants.map((p) => p.address).sort()).toEqual(
      [PHONE, ...MEMBERS].map((m) => `whatsapp:+${m}`).sort(),
    );
    const listed = (await (await gw.call("GET", "/sessions/default/groups")).json()) as { items: GroupView[] };
    expect(listed.items.map((g) => g.id)).toContain(group.id);

    const text = (await (
      await gw.call("POST", "/messages", { body: { to: group.address, text: "Chapter 3 for Friday" } })
    ).json()) as { id: string };
    const photo = await realMedia.png(48);
    const uploaded = (await (
      await gw.gateway.app.request("/media", {
        method: "POST",
        headers: { authorization: `Bearer test-key-0123456789`, "content-type": "image/png" },
        body: photo,
      })
    ).json()) as { id: string };
    const image = (await (
      await gw.call("POST", "/messages", { body: { to: group.address, media: [{ id: uploaded.id }] } })
    ).json()) as { id: string };

    const textAt = await atWhatsApp(sim, text.id);
    expect(textAt).toMatchObject({ group: group.id, text: "Chapter 3 for Friday" });
    expect([...(textAt.decryptedBy ?? [])].sort()).toEqual([...MEMBERS].sort());
    const imageAt = await atWhatsApp(sim, image.id);
    expect(imageAt.media?.sha256).toBe(sha256Hex(photo));
    expect([...(imageAt.decryptedBy ?? [])].sort()).toEqual([...MEMBERS].sort());

    await control(sim, "POST", "/control/inbound", { from: MEMBERS[1], to: PHONE, group: group.id, text: "I'm in!" });
    const reply = await eventually(async () => {
      const page = (await (await gw.call("GET", "/messages?direction=inbound")).json()) as {
        items: Array<{ text: string; from: string; group: string | null; participant: string | null }>;
      };
      return page.items.find((m) => m.text === "I'm in!");
    }, 20_000);
    expect(reply).toMatchObject({
      group: group.address,
      participant: `whatsapp:+${MEMBERS[1]}`,
      from: `whatsapp:+${MEMBERS[1]}`,
    });
    const hook = await eventually(
      () => hooks.received.find((h) => h.payload?.type === "message.inbound" && h.payload.data.text === "I'm in!"),
      20_000,
    );
    expect(hook.payload?.data).toMatchObject({ group: group.address, participant: `whatsapp:+${MEMBERS[1]}` });

    // Read marks and replies in a group name the group and the member.
    const replyId = (hook.payload?.data as { id: string; providerMessageId: string }).id;
    const waId = (hook.payload?.data as { providerMessageId: string }).providerMessageId;
    expect((await gw.call("POST", `/messages/${replyId}/read`)).status).toBe(204);
    await eventually(() => sim.clientReceipts(PHONE).find((r) => r.id === waId && r.type === "read"), 20_000);
    const answer = (await (
      await gw.call("POST", "/messages", { body: { to: group.address, text: "See you there", replyTo: replyId } })
    ).json()) as { id: string };
    expect(await atWhatsApp(sim, answer.id)).toMatchObject({ group: group.id, replyTo: waId });
  });

  it("adds and removes members: the next message reaches the newcomer and not the one who left", async () => {
    const { sim, gw, hooks } = await setup();
    const group = (await (
      await gw.call("POST", "/sessions/default/groups", {
        body: { subject: "Shift team", participants: MEMBERS.map((m) => `+${m}`) },
      })
    ).json()) as GroupView;
    await atWhatsApp(
      sim,
      (
        (await (await gw.call("POST", "/messages", { body: { to: group.address, text: "first" } })).json()) as {
          id: string;
        }
      ).id,
    );

    const changed = await gw.call("POST", `/sessions/default/groups/${group.id}/participants`, {
      body: { add: [`+${NEWCOMER}`], remove: [`+${MEMBERS[0]}`] },
    });
    expect(changed.status).toBe(200);
    const after = (await changed.json()) as GroupView;
    expect(after.participants.map((p) => p.address)).toContain(`whatsapp:+${NEWCOMER}`);
    expect(after.participants.map((p) => p.address)).not.toContain(`whatsapp:+${MEMBERS[0]}`);

    const next = (await (
      await gw.call("POST", "/messages", { body: { to: group.address, text: "second" } })
    ).json()) as {
      id: string;
    };
    const nextAt = await atWhatsApp(sim, next.id);
    expect(nextAt.decryptedBy).toContain(NEWCOMER);
    expect(nextAt.decryptedBy).not.toContain(MEMBERS[0]);

    const renamed = await gw.call("PATCH", `/sessions/default/groups/${group.id}`, {
      body: { subject: "Night shift" },
    });
    expect(((await renamed.json()) as GroupView).subject).toBe("Night shift");
    const invite = (await (await gw.call("GET", `/sessions/default/groups/${group.id}/invite-link`)).json()) as {
      link: string;
    };
    expect(invite.link).toMatch(/^https:\/\/chat\.whatsapp\.com\/\S+$/);
    await eventually(() => hooks.received.find((h) => h.payload?.type === "group.updated"), 20_000);

    expect((await gw.call("GET", "/sessions/default/groups/99999999999")).status).toBe(404);
    expect((await gw.call("GET", "/sessions/default/groups/not-an-id")).status).toBe(400);
  });

  it("sends messages accepted before a kill -9 to a group once each, in order, after the restart", async () => {
    const sim = await startWhatsAppSimulator({ receipts: { delivery: false, read: false } });
    cleanups.push(() => sim.close());
    const dir = await tempDir();
    cleanups.push(dir.remove);
    await seedLinkedSession(sim, dir.path, "default", PHONE);
    const { id: groupId } = await control<{ id: string }>(sim, "POST", "/control/groups", {
      subject: "Deliveries",
      members: [PHONE, ...MEMBERS],
    });
    const start = async (): Promise<GatewayProcess> => {
      const gw = await startGatewayProcess(join(import.meta.dirname, "../../src/main.ts"), {
        GATEWAY_PROVIDERS: "baileys",
        WA_WEBSOCKET_URL: sim.wsUrl,
        WA_MEDIA_CA_FILE: sim.caFile,
        RECONNECT_BACKOFF_BASE_MS: "50",
        RECONNECT_BACKOFF_MAX_MS: "300",
        DATA_DIR: dir.path,
        API_KEYS: TEST_API_KEY,
      });
      cleanups.push(() => {
        if (gw.child.exitCode === null) gw.child.kill("SIGKILL");
      });
      return gw;
    };
    const first = await start();
    await eventually(async () => {
      const res = await fetch(`${first.url}/sessions/default`, {
        headers: { authorization: `Bearer ${TEST_API_KEY}` },
      });
      return ((await res.json()) as { state: string }).state === "open" ? true : undefined;
    }, 20_000);
    // WhatsApp unreachable for a while: the messages are accepted and wait in the queue.
    sim.outage(4);
    const ids: string[] = [];
    for (const text of ["one", "two", "three"]) {
      const res = await fetch(`${first.url}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ to: `whatsapp:group:${groupId}`, text }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await start();
    const arrived = await eventually(async () => {
      const log = await control<ControlMessage[]>(sim, "GET", `/control/messages?from=${PHONE}`);
      return log.length >= 3 ? log : undefined;
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const log = await control<ControlMessage[]>(sim, "GET", `/control/messages?from=${PHONE}`);
    expect(log.map((m) => m.id)).toEqual(ids.map((id) => deriveWaMessageId(id)));
    expect(arrived.map((m) => m.text)).toEqual(["one", "two", "three"]);
    for (const message of log) {
      expect(message.group).toBe(groupId);
      expect([...(message.decryptedBy ?? [])].sort()).toEqual([...MEMBERS].sort());
    }
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  });
});
