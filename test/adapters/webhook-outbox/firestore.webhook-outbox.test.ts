import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FirestoreWebhookOutbox } from "../../../src/adapters/webhook-outbox/firestore/firestore.webhook-outbox.ts";
import { aDelivery, webhookOutboxContract } from "../../contracts/webhook-outbox.contract.ts";
import {
  firestoreEmulatorAvailable,
  startFirestoreEmulator,
  type FirestoreEmulator,
} from "../../support/firestore-emulator.ts";

describe.skipIf(!firestoreEmulatorAvailable())("FirestoreWebhookOutbox (emulator)", () => {
  let emulator: FirestoreEmulator;
  let namespaces = 0;
  beforeAll(async () => {
    emulator = await startFirestoreEmulator();
  }, 90_000);
  afterAll(async () => {
    await emulator?.stop();
  });

  const open = (namespace: string): FirestoreWebhookOutbox =>
    new FirestoreWebhookOutbox({ projectId: emulator.projectId, emulatorHost: emulator.host, namespace });

  // One emulator for the file; each outbox gets a namespace of its own, so it starts empty.
  webhookOutboxContract("firestore", async () => {
    namespaces += 1;
    const outbox = open(`contract-${namespaces}`);
    return { outbox, cleanup: () => outbox.close() };
  });

  describe("shared by several instances", () => {
    const opened: FirestoreWebhookOutbox[] = [];
    afterEach(async () => {
      for (const outbox of opened.splice(0)) await outbox.close();
    });

    it("delivers what a dead instance queued and had in flight, once its lease ran out", async () => {
      namespaces += 1;
      const namespace = `instances-${namespaces}`;
      const dying = open(namespace);
      const survivor = open(namespace);
      opened.push(survivor);
      const now = new Date();
      const first = await dying.enqueue(aDelivery("message:crash", { at: now }));
      const second = await dying.enqueue(aDelivery("message:crash", { at: now }));
      expect((await dying.claimDue(10, 30_000, now)).map((d) => d.id)).toEqual([first.id]);
      await dying.close(); // gone without recording an outcome

      const later = new Date(now.getTime() + 1_000);
      expect(await survivor.claimDue(10, 30_000, later)).toEqual([]);
      const expired = new Date(now.getTime() + 30_000);
      expect((await survivor.claimDue(10, 30_000, expired)).map((d) => d.id)).toEqual([first.id]);
      await survivor.recordSuccess(first.id, expired);
      expect((await survivor.claimDue(10, 30_000, expired)).map((d) => d.id)).toEqual([second.id]);
    });

    it("hands a due delivery to one of two instances claiming at once, never both", async () => {
      namespaces += 1;
      const namespace = `instances-${namespaces}`;
      const [a, b] = [open(namespace), open(namespace)];
      opened.push(a, b);
      const now = new Date();
      const queued = [];
      for (let i = 0; i < 6; i++) queued.push((await a.enqueue(aDelivery(`message:${i % 3}`, { at: now }))).id);
      const [fromA, fromB] = await Promise.all([a.claimDue(10, 30_000, now), b.claimDue(10, 30_000, now)]);
      const handed = [...fromA, ...fromB].map((d) => d.id);
      expect(new Set(handed).size).toBe(handed.length);
      expect(handed.sort()).toEqual(queued.slice(0, 3).sort());
    });
  });
});
