import { afterAll, afterEach, describe, expect, it } from "vitest";
import { prepareOutage } from "../support/disk-outage.ts";
import { eventually, startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";
import { newWebhookSecret, WebhookReceiver } from "../support/webhook-receiver.ts";

/**
 * The gateway on a data directory whose filesystem fills up, then gets its
 * space back: clear 503s while full, /health naming the store and why, and
 * work resumes with no restart, nothing accepted lost.
 *
 * Mode "tmpfs": DATA_DIR on a real 8 MiB tmpfs filled to the last page by a
 * filler file (every store of the gateway is on it: messages, webhooks,
 * events, media). Where mounting is refused (not root), mode "injected": the
 * message store's log sync fails with ENOSPC while "full". The test title
 * says which one ran (DISK_FULL_TEST_MODE=injected forces the fallback).
 */

// Decided before the tests are declared, so the title can say which mode runs.
const outage = await prepareOutage();
console.info(`disk-full test: ${outage.description}`);

describe(`a full disk under DATA_DIR (mode: ${outage.mode})`, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => outage.close());

  it("answers 503 STORE.UNAVAILABLE with Retry-After, names the store in /health, and resumes by itself with nothing lost", async () => {
    const secret = newWebhookSecret();
    const hooks = await WebhookReceiver.start(secret);
    cleanups.push(() => hooks.close());
    const gw: InProcessGateway = await startInProcessGateway(
      { WEBHOOK_URL: hooks.url, WEBHOOK_SECRET: secret },
      undefined,
      outage.dataDir,
      outage.register,
    );
    cleanups.push(() => gw.close());
    const statuses: number[] = [];
    const accepted: string[] = [];
    // A refused POST may still have been written (its commit was made, its sync failed): a client
    // retries with the same Idempotency-Key, and gets that message rather than a second one.
    const refusedKeys: number[] = [];
    let n = 0;
    const post = async (i = n++): Promise<Response> => {
      const res = await gw.call("POST", "/messages", {
        body: { to: `+1555000${String(i % 1000).padStart(4, "0")}`, text: `message ${i} ${"x".repeat(200)}` },
        headers: { "idempotency-key": `disk-full-${i}` },
      });
      statuses.push(res.status);
      if (res.status === 202) accepted.push(((await res.clone().json()) as { id: string }).id);
      else refusedKeys.push(i);
      return res;
    };

    for (let i = 0; i < 5; i++) expect((await post()).status).toBe(202);

    outage.fill();
    // SQLite may still write into log pages it already has: post until the store has no room left.
    let refused: Response | undefined;
    for (let i = 0; i < 5_000 && !refused; i++) {
      const res = await post();
      if (res.status !== 202) refused = res;
    }
    expect(refused?.status).toBe(503);
    expect(refused!.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    const problem = (await refused!.json()) as { code: string; detail: string };
    expect(problem.code).toBe("STORE.UNAVAILABLE");
    expect(problem.detail).toMatch(/message store cannot write: .*(disk is full|ENOSPC)/);

    // Refused while it stays full, and /health says which store and why.
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(503);
    const sick = (await (await gw.call("GET", "/health")).json()) as {
      status: string;
      stores: Record<string, { status: string; detail?: string }>;
    };
    expect(sick.status).toBe("degraded");
    expect(sick.stores.messages).toMatchObject({ status: "down" });
    expect(sick.stores.messages!.detail).toMatch(/message store cannot write: .*(disk is full|ENOSPC)/);
    expect((await gw.call("GET", "/ready")).status).toBe(503);

    outage.free();
    const healed = await eventually(
      async () => {
        const health = (await (await gw.call("GET", "/health")).json()) as {
          status: string;
          stores: Record<string, { status: string }>;
        };
        return health.status === "ok" ? health : undefined;
      },
      20_000,
      "health ok again after the space came back",
    );
    expect(Object.keys(healed.stores)).toEqual(expect.arrayContaining(["messages", "media", "events", "webhooks"]));
    expect((await post()).status).toBe(202);
    const retried = refusedKeys.splice(0);
    for (const i of retried) expect((await post(i)).status).toBe(202);

    // Every message accepted (before, during and after the outage, and the refused ones once retried) is sent exactly once.
    await eventually(
      async () => {
        for (const id of accepted) {
          const message = (await (await gw.call("GET", `/messages/${id}`)).json()) as { status: string };
          if (message.status !== "sent") return false;
        }
        return true;
      },
      30_000,
      "every accepted message sent",
    );
    const sentIds = gw.provider.sent.map((m) => m.id);
    expect(new Set(sentIds)).toEqual(new Set(accepted));
    expect(sentIds).toHaveLength(new Set(sentIds).size);
    // And each one's `sent` reached the webhook receiver, events held during the outage included.
    await eventually(
      () => {
        const announced = new Set(
          hooks.verified
            .filter((h) => h.payload?.type === "message.status" && h.payload.data.status === "sent")
            .map((h) => h.payload!.data.id),
        );
        return accepted.every((id) => announced.has(id));
      },
      30_000,
      "a sent webhook for every accepted message",
    );
    expect(statuses.filter((s) => s !== 202 && s !== 503)).toEqual([]);
    console.info(
      `disk-full test (${outage.mode}): ${accepted.length} accepted, ${retried.length} refused with 503 and retried with their key`,
    );
  }, 90_000);
});
