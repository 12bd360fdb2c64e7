/**
 * Firestore reads, writes and deletes per message on the Firestore queue
 * (FirestoreMessageStore and FirestoreWebhookOutbox, on the emulator),
 * counted the way Firestore bills them (see support/firestore-ops.ts), and
 * what 1,000 messages cost at the list prices below. Counts, not times: they
 * do not depend on the machine. Run: `npx tsx bench/firestore-queue.bench.ts`
 * (`BENCH_MESSAGES`, default 200; `BENCH_RECIPIENTS`, default 20).
 */
import { FirestoreMessageStore } from "../src/adapters/message-store/firestore/firestore.message-store.ts";
import { FirestoreSessionLease } from "../src/adapters/session-lease/firestore/firestore.session-lease.ts";
import { FirestoreWebhookOutbox } from "../src/adapters/webhook-outbox/firestore/firestore.webhook-outbox.ts";
import type { Message } from "../src/domain/message.ts";
import { startFirestoreEmulator } from "../test/support/firestore-emulator.ts";
import { countFirestoreOps, resetOps, type OpCounts } from "./support/firestore-ops.ts";

const MESSAGES = Number(process.env["BENCH_MESSAGES"] ?? 200);
const RECIPIENTS = Number(process.env["BENCH_RECIPIENTS"] ?? 20);
/** Firestore Standard edition list prices in USD per 100,000 operations (2026; check the current ones). */
const PRICE = { reads: 0.06, writes: 0.18, deletes: 0.02 } as const;
const ROUTE = { provider: "baileys", session: "bench" } as const;

const rows: { step: string; perMessage: OpCounts }[] = [];

function record(step: string, counts: OpCounts, messages: number): void {
  rows.push({
    step,
    perMessage: {
      reads: counts.reads / messages,
      writes: counts.writes / messages,
      deletes: counts.deletes / messages,
    },
  });
}

function costPer1000(c: OpCounts): number {
  return ((c.reads * PRICE.reads + c.writes * PRICE.writes + c.deletes * PRICE.deletes) / 100_000) * 1000;
}

async function main(): Promise<void> {
  countFirestoreOps();
  const emulator = await startFirestoreEmulator(`demo-bench-${process.pid}`);
  const location = { projectId: emulator.projectId, emulatorHost: emulator.host };
  const store = new FirestoreMessageStore({ ...location, namespace: "bench" });
  const outbox = new FirestoreWebhookOutbox({ ...location, namespace: "bench" });
  try {
    await store.ping();
    const at = new Date();
    const recipient = (i: number): string => `whatsapp:+4070${String(i % RECIPIENTS).padStart(7, "0")}`;
    const base = {
      ...ROUTE,
      channel: "whatsapp" as const,
      from: null,
      text: "hello",
      media: [],
      metadata: null,
    };

    resetOps();
    const plain: Message[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const result = await store.enqueue({ ...base, id: `plain-${i}`, to: recipient(i), idempotency: null, at });
      plain.push(result.message);
    }
    record("enqueue, no Idempotency-Key", resetOps(), MESSAGES);

    for (let i = 0; i < MESSAGES; i++) {
      await store.enqueue({
        ...base,
        id: `keyed-${i}`,
        to: recipient(i),
        idempotency: { key: `key-${i}`, fingerprint: "f" },
        at,
      });
    }
    record("enqueue with an Idempotency-Key", resetOps(), MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      await store.enqueue({
        ...base,
        id: `again-${i}`,
        to: recipient(i),
        idempotency: { key: `key-${i}`, fingerprint: "f" },
        at,
      });
    }
    record("enqueue again with the same key (existing)", resetOps(), MESSAGES);

    // The dispatcher's round: claim a batch (limit 10, one per recipient), then record each send.
    let claimed = 0;
    let claimCounts: OpCounts = { reads: 0, writes: 0, deletes: 0 };
    let sentCounts: OpCounts = { reads: 0, writes: 0, deletes: 0 };
    const total = MESSAGES * 2;
    while (claimed < total) {
      resetOps();
      const batch = await store.claim(ROUTE, 10, 60_000, new Date());
      claimCounts = add(claimCounts, resetOps());
      if (batch.length === 0) throw new Error("claim handed out nothing with messages waiting");
      for (const m of batch) {
        await store.recordAttempt(m.id, { kind: "sent", providerMessageId: `wamid-${m.id}` }, new Date());
      }
      sentCounts = add(sentCounts, resetOps());
      claimed += batch.length;
    }
    record("claim (batches of 10)", claimCounts, total);
    record("recordAttempt sent", sentCounts, total);

    for (const m of plain) {
      await store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: `wamid-${m.id}`, status: "delivered" },
        new Date(),
      );
    }
    record("receipt: delivered", resetOps(), MESSAGES);
    for (const m of plain) {
      await store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: `wamid-${m.id}`, status: "read" },
        new Date(),
      );
    }
    record("receipt: read", resetOps(), MESSAGES);
    for (let i = 0; i < MESSAGES; i++) {
      await store.applyStatus(
        { provider: ROUTE.provider, providerMessageId: `unknown-${i}`, status: "delivered" },
        new Date(),
      );
    }
    record("receipt matching no message (kept as early)", resetOps(), MESSAGES);

    // The same round with fencing: each claim and outcome also reads the session's lease.
    const leases = new FirestoreSessionLease({
      ...location,
      instanceId: "bench",
      leaseMs: 600_000,
      collection: "bench-leases",
    });
    const acquired = await leases.acquire(ROUTE.session);
    if (!acquired.acquired) throw new Error("the bench could not take its session's lease");
    const fenced = new FirestoreMessageStore({
      ...location,
      namespace: "bench-fenced",
      fencing: { holder: leases, leasesCollection: "bench-leases" },
    });
    try {
      for (let i = 0; i < MESSAGES; i++) {
        await fenced.enqueue({ ...base, id: `fenced-${i}`, to: recipient(i), idempotency: null, at });
      }
      resetOps();
      let fencedClaim: OpCounts = { reads: 0, writes: 0, deletes: 0 };
      let fencedSent: OpCounts = { reads: 0, writes: 0, deletes: 0 };
      for (let done = 0; done < MESSAGES;) {
        const batch = await fenced.claim(ROUTE, 10, 60_000, new Date());
        fencedClaim = add(fencedClaim, resetOps());
        if (batch.length === 0) throw new Error("fenced claim handed out nothing with messages waiting");
        for (const m of batch)
          await fenced.recordAttempt(m.id, { kind: "sent", providerMessageId: `f-${m.id}` }, new Date());
        fencedSent = add(fencedSent, resetOps());
        done += batch.length;
      }
      record("claim, fenced (batches of 10)", fencedClaim, MESSAGES);
      record("recordAttempt sent, fenced", fencedSent, MESSAGES);
    } finally {
      await fenced.close();
      await leases.close();
    }

    // Webhook outbox: one delivery per event, enqueued, claimed in tens, delivered.
    for (let i = 0; i < MESSAGES; i++) {
      await outbox.enqueue({
        id: `whd-${i}`,
        eventId: `evt-${i}`,
        type: "message.status",
        orderingKey: `message:${i % RECIPIENTS}`,
        body: '{"type":"message.status"}',
        at: new Date(),
      });
    }
    record("webhook: enqueue", resetOps(), MESSAGES);
    let delivered = 0;
    let woClaim: OpCounts = { reads: 0, writes: 0, deletes: 0 };
    let woDone: OpCounts = { reads: 0, writes: 0, deletes: 0 };
    while (delivered < MESSAGES) {
      resetOps();
      const batch = await outbox.claimDue(10, 60_000, new Date());
      woClaim = add(woClaim, resetOps());
      if (batch.length === 0) throw new Error("claimDue handed out nothing with deliveries pending");
      for (const d of batch) await outbox.recordSuccess(d.id, new Date());
      woDone = add(woDone, resetOps());
      delivered += batch.length;
    }
    record("webhook: claimDue (batches of 10)", woClaim, MESSAGES);
    record("webhook: recordSuccess", woDone, MESSAGES);
    await outbox.purgeDelivered(new Date(Date.now() + 1000), 400);
    record("webhook: purgeDelivered", resetOps(), MESSAGES);
  } finally {
    await store.close();
    await outbox.close();
    await emulator.stop();
  }

  console.log(`Firestore operations per message (${MESSAGES} messages, ${RECIPIENTS} recipients, one route)`);
  console.log("step | reads | writes | deletes | USD per 1,000");
  for (const { step, perMessage: c } of rows) {
    console.log(`${step} | ${f(c.reads)} | ${f(c.writes)} | ${f(c.deletes)} | ${costPer1000(c).toFixed(5)}`);
  }
  console.log(
    `prices: USD per 100k reads ${PRICE.reads}, writes ${PRICE.writes}, deletes ${PRICE.deletes} (list prices to check)`,
  );
}

function add(a: OpCounts, b: OpCounts): OpCounts {
  return { reads: a.reads + b.reads, writes: a.writes + b.writes, deletes: a.deletes + b.deletes };
}

function f(n: number): string {
  return n.toFixed(2);
}

await main();
