import { plainConversation } from "../../src/domain/conversation.ts";
import { mediaFromUrl } from "../../src/domain/media.ts";
import { describe, expect, it } from "vitest";
import type { EarlyStatus } from "../../src/domain/early-statuses.ts";
import type { MessageError } from "../../src/domain/errors.ts";
import type { NewOutboundMessage } from "../../src/domain/message.ts";
import {
  acceptedOutbound,
  afterAttempt,
  afterClaim,
  afterRequeue,
  afterStatusReport,
  earlyStatusesAppliedBy,
  isUnfinished,
  receivedInbound,
  type StoredMessage,
} from "../../src/domain/message-lifecycle.ts";
import type { ProviderStatus } from "../../src/domain/message-status.ts";

const BASE = Date.parse("2026-01-01T00:00:00.000Z");
const t = (ms: number): Date => new Date(BASE + ms);
const iso = (ms: number): string => t(ms).toISOString();
const TIMEOUT: MessageError = { code: "PROVIDER.UNAVAILABLE", message: "socket closed", retryable: true };
const REJECTED: MessageError = { code: "PROVIDER.REJECTED", message: "not on WhatsApp", retryable: false };
const HOUR = 60 * 60 * 1000;

function outbound(overrides: Partial<NewOutboundMessage> = {}): NewOutboundMessage {
  return {
    id: "m1",
    provider: "baileys",
    session: "main",
    channel: "whatsapp",
    to: "whatsapp:+40700000001",
    from: null,
    text: "hello",
    media: [mediaFromUrl("https://example.test/a.png")],
    metadata: { order: 7 },
    idempotency: null,
    at: t(0),
    ...overrides,
  };
}

const statuses = (stored: StoredMessage): string[] => stored.message.history.map((h) => h.status);
/** A message claimed at 1 with a 30 s lease. */
const inFlight = (): StoredMessage => afterClaim(acceptedOutbound(outbound()), 30_000, t(1));
const sent = (providerMessageId = "p1", status?: ProviderStatus) =>
  ({ kind: "sent", providerMessageId, ...(status ? { status } : {}) }) as const;
function early(status: ProviderStatus, reportedAt: number, error?: MessageError): EarlyStatus {
  return { provider: "baileys", providerMessageId: "p1", status, error, reportedAt: BASE + reportedAt };
}

describe("acceptance", () => {
  it("accepts an outbound message queued, due at once, with no attempt", () => {
    const stored = acceptedOutbound(outbound());
    expect(stored).toEqual({
      message: {
        id: "m1",
        direction: "outbound",
        status: "queued",
        channel: "whatsapp",
        provider: "baileys",
        session: "main",
        to: "whatsapp:+40700000001",
        from: null,
        text: "hello",
        media: [mediaFromUrl("https://example.test/a.png")],
        ...plainConversation("media"),
        metadata: { order: 7 },
        providerMessageId: null,
        attempts: 0,
        error: null,
        createdAt: iso(0),
        updatedAt: iso(0),
        history: [{ status: "queued", at: iso(0) }],
      },
      nextAttemptAt: BASE,
      leaseUntil: null,
    });
  });

  it("receives an inbound message as received, out of the queue, `to` empty when unknown", () => {
    const stored = receivedInbound({
      id: "in1",
      provider: "twilio",
      session: "default",
      channel: "sms",
      from: "sms:+40700000002",
      to: null,
      text: "hi",
      media: [],
      providerMessageId: "SM1",
      at: t(5),
    });
    expect(stored.message).toMatchObject({
      direction: "inbound",
      status: "received",
      to: "",
      providerMessageId: "SM1",
    });
    expect(statuses(stored)).toEqual(["received"]);
    expect(stored).toMatchObject({ nextAttemptAt: null, leaseUntil: null });
  });

  it("counts queued and sending, and only those, as unfinished", () => {
    expect(["queued", "sending"].every((s) => isUnfinished(s as "queued"))).toBe(true);
    for (const s of ["sent", "delivered", "read", "failed", "received"] as const) expect(isUnfinished(s)).toBe(false);
  });
});

describe("claim and requeue", () => {
  it("a claim moves to sending under a lease", () => {
    const claimed = inFlight();
    expect(claimed).toMatchObject({ message: { status: "sending", updatedAt: iso(1) }, leaseUntil: BASE + 30_001 });
    expect(statuses(claimed)).toEqual(["queued", "sending"]);
  });

  it("a negative lease counts as none", () => {
    expect(afterClaim(acceptedOutbound(outbound()), -5, t(1)).leaseUntil).toBe(BASE + 1);
  });

  it("claiming again a message whose lease ran out extends the lease without a history entry", () => {
    const again = afterClaim(inFlight(), 30_000, t(40_000));
    expect(again.leaseUntil).toBe(BASE + 70_000);
    expect(statuses(again)).toEqual(["queued", "sending"]);
  });

  it("a requeue goes back to queued, due at once, without counting an attempt", () => {
    const requeued = afterRequeue(inFlight(), t(2));
    expect(requeued).toMatchObject({ message: { status: "queued", attempts: 0 }, nextAttemptAt: BASE + 2 });
    expect(requeued.leaseUntil).toBeNull();
    expect(statuses(requeued)).toEqual(["queued", "sending", "queued"]);
  });
});

describe("attempt outcomes", () => {
  it("sent: status sent, provider id stored, attempt counted, out of the queue", () => {
    const after = afterAttempt(inFlight(), sent(), t(2));
    expect(after.message).toMatchObject({ status: "sent", providerMessageId: "p1", attempts: 1, updatedAt: iso(2) });
    expect(after).toMatchObject({ nextAttemptAt: null, leaseUntil: null });
    expect(after.message.history.at(-1)).toEqual({ status: "sent", at: iso(2) });
  });

  it("sent with a further status takes it, and the history has every status it implies", () => {
    const after = afterAttempt(inFlight(), sent("p1", "read"), t(2));
    expect(after.message.status).toBe("read");
    expect(statuses(after)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("sent drops the error of an earlier attempt", () => {
    const retried = afterAttempt(inFlight(), { kind: "retry", error: TIMEOUT, nextAttemptAt: t(10) }, t(2));
    const after = afterAttempt(afterClaim(retried, 30_000, t(10)), sent(), t(11));
    expect(after.message).toMatchObject({ status: "sent", attempts: 2, error: null });
  });

  it("retry: back to queued with the error, due at the given time", () => {
    const after = afterAttempt(inFlight(), { kind: "retry", error: TIMEOUT, nextAttemptAt: t(500) }, t(2));
    expect(after).toMatchObject({
      message: { status: "queued", attempts: 1, error: TIMEOUT },
      nextAttemptAt: BASE + 500,
      leaseUntil: null,
    });
    expect(statuses(after)).toEqual(["queued", "sending", "queued"]);
  });

  it("failed: failed with the error, out of the queue", () => {
    const after = afterAttempt(inFlight(), { kind: "failed", error: REJECTED }, t(2));
    expect(after).toMatchObject({
      message: { status: "failed", attempts: 1, error: REJECTED },
      nextAttemptAt: null,
      leaseUntil: null,
    });
  });

  it("released: back to queued, due at once, not counted, error kept", () => {
    const retried = afterAttempt(inFlight(), { kind: "retry", error: TIMEOUT, nextAttemptAt: t(10) }, t(2));
    const after = afterAttempt(afterClaim(retried, 30_000, t(10)), { kind: "released" }, t(11));
    expect(after).toMatchObject({
      message: { status: "queued", attempts: 1, error: TIMEOUT },
      nextAttemptAt: BASE + 11,
      leaseUntil: null,
    });
  });

  describe("on a message no longer in flight (a provider already reported on it)", () => {
    const delivered = (): StoredMessage =>
      afterStatusReport(inFlight(), { provider: "baileys", messageId: "m1", status: "delivered" }, t(2)).stored;

    it("retry and failed only count the attempt", () => {
      for (const outcome of [
        { kind: "retry", error: TIMEOUT, nextAttemptAt: t(50) },
        { kind: "failed", error: REJECTED },
      ] as const) {
        const after = afterAttempt(delivered(), outcome, t(3));
        expect(after.message).toMatchObject({ status: "delivered", attempts: 1, error: null, updatedAt: iso(3) });
        expect(after.nextAttemptAt).toBeNull();
        expect(statuses(after)).toEqual(["queued", "sending", "sent", "delivered"]);
      }
    });

    it("released changes nothing at all", () => {
      const before = delivered();
      expect(afterAttempt(before, { kind: "released" }, t(3))).toBe(before);
    });

    it("sent never moves the status backwards, but moves it forward", () => {
      expect(afterAttempt(delivered(), sent(), t(3)).message).toMatchObject({ status: "delivered", attempts: 1 });
      const read = afterAttempt(delivered(), sent("p1", "read"), t(3));
      expect(read.message.status).toBe("read");
      expect(statuses(read)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
    });
  });
});

describe("early status reports applied by a sent outcome", () => {
  it("names the reports a sent outcome takes, and none for other outcomes", () => {
    expect(earlyStatusesAppliedBy(inFlight(), sent("wamid.1"))).toEqual({
      provider: "baileys",
      providerMessageId: "wamid.1",
    });
    expect(earlyStatusesAppliedBy(inFlight(), { kind: "failed", error: REJECTED })).toBeUndefined();
    expect(earlyStatusesAppliedBy(inFlight(), { kind: "released" })).toBeUndefined();
  });

  it("applies them in report order: delivered then read ends read", () => {
    const after = afterAttempt(inFlight(), sent(), t(3), [early("delivered", 1), early("read", 2)]);
    expect(after.message.status).toBe("read");
    expect(statuses(after)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("never moves backwards while applying them: read then delivered ends read, delivered recorded once", () => {
    const after = afterAttempt(inFlight(), sent(), t(3), [early("read", 1), early("delivered", 2)]);
    expect(after.message.status).toBe("read");
    expect(statuses(after)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("applies a kept failure with its error", () => {
    const after = afterAttempt(inFlight(), sent(), t(3), [early("failed", 1, REJECTED)]);
    expect(after.message).toMatchObject({ status: "failed", error: REJECTED });
    expect(statuses(after)).toEqual(["queued", "sending", "sent", "failed"]);
  });

  it("skips a report the outcome's own status has passed", () => {
    const after = afterAttempt(inFlight(), sent("p1", "read"), t(3), [early("sent", 1), early("delivered", 2)]);
    expect(statuses(after)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("skips reports past the retention, 24 h by default", () => {
    const day = 24 * HOUR;
    expect(afterAttempt(inFlight(), sent(), t(day + 1), [early("delivered", 1)]).message.status).toBe("delivered");
    expect(afterAttempt(inFlight(), sent(), t(day + 2), [early("delivered", 1)]).message.status).toBe("sent");
    const limits = { retentionMs: 1_000, max: 10 };
    expect(afterAttempt(inFlight(), sent(), t(1_001), [early("read", 1)], limits).message.status).toBe("read");
    expect(afterAttempt(inFlight(), sent(), t(1_002), [early("read", 1)], limits).message.status).toBe("sent");
  });

  it("ignores reports for any other outcome", () => {
    const after = afterAttempt(inFlight(), { kind: "failed", error: REJECTED }, t(3), [early("read", 1)]);
    expect(after.message.status).toBe("failed");
  });
});

describe("status reports", () => {
  const sentMessage = (): StoredMessage => afterAttempt(inFlight(), sent(), t(2));

  it("moves forward and reports what it reached", () => {
    const { stored, reached } = afterStatusReport(sentMessage(), { provider: "baileys", status: "delivered" }, t(3));
    expect(reached).toEqual(["delivered"]);
    expect(stored.message).toMatchObject({ status: "delivered", updatedAt: iso(3) });
  });

  it("records the statuses a report implies: read without delivered passes delivered", () => {
    const { stored, reached } = afterStatusReport(sentMessage(), { provider: "baileys", status: "read" }, t(3));
    expect(reached).toEqual(["delivered", "read"]);
    expect(statuses(stored)).toEqual(["queued", "sending", "sent", "delivered", "read"]);
  });

  it("never moves backwards, and the same report again changes nothing", () => {
    const read = afterStatusReport(sentMessage(), { provider: "baileys", status: "read" }, t(3)).stored;
    for (const status of ["sent", "delivered", "read"] as const) {
      const result = afterStatusReport(read, { provider: "baileys", status }, t(4));
      expect(result.stored).toBe(read);
      expect(result.reached).toEqual([]);
    }
  });

  it("keeps a failure's error", () => {
    const { stored } = afterStatusReport(
      sentMessage(),
      { provider: "baileys", status: "failed", error: REJECTED },
      t(3),
    );
    expect(stored.message).toMatchObject({ status: "failed", error: REJECTED });
  });

  it("on a message still in flight, takes it out of the queue and stores the report's provider id", () => {
    const { stored, reached } = afterStatusReport(
      inFlight(),
      { provider: "baileys", providerMessageId: "wamid.x", status: "delivered" },
      t(3),
    );
    expect(reached).toEqual(["sent", "delivered"]);
    expect(stored).toMatchObject({ message: { providerMessageId: "wamid.x" }, leaseUntil: null, nextAttemptAt: null });
  });

  it("keeps a provider id already stored", () => {
    const { stored } = afterStatusReport(
      sentMessage(),
      { provider: "baileys", providerMessageId: "other", status: "read" },
      t(3),
    );
    expect(stored.message.providerMessageId).toBe("p1");
  });

  it("never applies to a received message", () => {
    const inbound = receivedInbound({
      id: "in1",
      provider: "baileys",
      session: "main",
      channel: "whatsapp",
      from: "whatsapp:+40700000002",
      to: "whatsapp:+40700000001",
      text: "hi",
      media: [],
      providerMessageId: "w1",
      at: t(0),
    });
    expect(afterStatusReport(inbound, { provider: "baileys", status: "read" }, t(1)).reached).toEqual([]);
  });
});
