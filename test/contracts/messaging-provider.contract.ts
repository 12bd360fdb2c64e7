import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Channel } from "../../src/domain/address.ts";
import { ProviderError } from "../../src/domain/errors.ts";
import type { Message } from "../../src/domain/message.ts";
import type {
  MessagingProvider,
  ProviderEvent,
  ProviderEventListener,
  SendReceipt,
} from "../../src/domain/ports/messaging-provider.port.ts";
import { aSendingMessage } from "../support/message-mother.ts";

/** A message as the recipient's side of the double saw it. */
export interface Delivered {
  /** The id the double knows the message by: what the provider's receipt must name. */
  readonly providerMessageId: string;
  readonly text: string | null;
}

/**
 * What the suite makes the double do, each through the double's own controls
 * (the simulator's and the fake Twilio API's control APIs, the memory fake's
 * methods), never by reaching into the provider.
 */
export interface ProviderDriver {
  /** Resolves once the harness's session can send (a failure the harness caused may have taken it down). */
  untilReady(): Promise<void>;
  /** Every message the double took for `to` (our address notation), in arrival order, repeats included. */
  receivedBy(to: string): Promise<readonly Delivered[]>;
  /** The recipient of a message the provider sent reports it delivered or read. */
  reportStatus(
    sent: { readonly message: Message; readonly receipt: SendReceipt },
    status: "delivered" | "read",
  ): Promise<void>;
  /** Someone (`from`, our notation) writes `text` to the harness's account. */
  deliverInbound(from: string, text: string): Promise<void>;
  /**
   * The next send fails: `retryable` the way that provider most often fails
   * for a while (a session's socket down, an API answering 5xx/429),
   * `terminal` with a verdict on the message (a negative ack, a 4xx).
   */
  failNextSend(kind: "retryable" | "terminal"): Promise<void>;
}

/**
 * What the port lets providers differ on, declared by each test file (known
 * before anything starts, so a skipped case shows as skipped, with the reason
 * in its name). The suite checks a declaration against the provider where it can.
 */
export interface ProviderCapabilities {
  /**
   * Sending one message id twice gives one message at the recipient (the
   * port's promise), or, for a provider that documents at-least-once
   * delivery instead, why not.
   */
  readonly idempotentSends: true | { readonly whyNot: string };
  /** The provider manages logins: it offers `sessions`. */
  readonly logins: boolean;
}

export interface MessagingProviderHarness {
  /** Started, with its double running and `session` linked. */
  readonly provider: MessagingProvider;
  readonly driver: ProviderDriver;
  /** A session the provider serves, ready once `driver.untilReady()` resolved. */
  readonly session: string;
  readonly channel: Channel;
  /** Our own address on that session: the `to` of inbound messages. */
  readonly account: string;
  /** Whom the suite writes to, and who writes back (our notation). */
  readonly recipient: string;
  readonly contact: string;
  /**
   * For a provider with `webhooks`: the events its WebhookReceiver made of the
   * signed callbacks the double posted (the harness plays the app's webhook
   * route). Such a provider reports nothing through `subscribe`.
   */
  readonly onCallbackEvents?: (listener: ProviderEventListener) => () => void;
  /** Stops the provider and its double and removes what the harness created. */
  dispose(): Promise<void>;
}

/** Every event a provider reported, through `subscribe` and, for one with `webhooks`, through its callbacks. */
class ReportedEvents {
  readonly all: ProviderEvent[] = [];
  private readonly offs: Array<() => void> = [];

  constructor(harness: MessagingProviderHarness) {
    const listener: ProviderEventListener = (event) => void this.all.push(event);
    this.offs.push(harness.provider.subscribe(listener));
    if (harness.provider.webhooks) {
      if (!harness.onCallbackEvents) throw new Error("a provider with webhooks needs a harness with onCallbackEvents");
      this.offs.push(harness.onCallbackEvents(listener));
    }
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
  }

  async waitFor<T extends ProviderEvent["type"]>(
    type: T,
    match: (event: Extract<ProviderEvent, { type: T }>) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<Extract<ProviderEvent, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.all.find(
        (e): e is Extract<ProviderEvent, { type: T }> => e.type === type && match(e as never),
      );
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.all.map((e) => e.type))}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A fresh outbound message as the dispatcher hands it over. */
function anOutbound(harness: MessagingProviderHarness, text: string): Message {
  return aSendingMessage({
    id: `contract-${process.pid}-${Date.now().toString(36)}-${++counter}`,
    channel: harness.channel,
    provider: harness.provider.id,
    session: harness.session,
    to: harness.recipient,
    text,
  });
}

let counter = 0;

async function sendFailure(provider: MessagingProvider, message: Message): Promise<ProviderError> {
  const outcome = await provider.send(message).then(
    (receipt) => receipt,
    (error: unknown) => error,
  );
  expect(outcome, "the send must fail with a ProviderError").toBeInstanceOf(ProviderError);
  return outcome as ProviderError;
}

/** Messages with this text at the recipient, told apart the way the recipient tells them apart: by id. */
async function distinctWithText(harness: MessagingProviderHarness, text: string): Promise<string[]> {
  const got = await harness.driver.receivedBy(harness.recipient);
  return [...new Set(got.filter((d) => d.text === text).map((d) => d.providerMessageId))];
}

/** Waits until the recipient has a message with `text` (doubles may record it just after the send returned). */
async function untilReceived(harness: MessagingProviderHarness, text: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ids = await distinctWithText(harness, text);
    if (ids.length > 0 || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The MessagingProvider contract: every provider, the in-memory fake
 * included, runs this suite against its double. `start` is called once per
 * file for the shared cases (a linked WhatsApp session is slow to make), and
 * once more for the stop case, which leaves its provider stopped for good.
 */
export function runMessagingProviderContract(
  name: string,
  capabilities: ProviderCapabilities,
  start: () => Promise<MessagingProviderHarness>,
): void {
  const idempotent = capabilities.idempotentSends;
  describe(`MessagingProvider contract: ${name}`, () => {
    let h: MessagingProviderHarness;
    let events: ReportedEvents;

    beforeAll(async () => {
      h = await start();
      events = new ReportedEvents(h);
    });
    afterAll(async () => {
      events?.close();
      await h?.dispose();
    });
    beforeEach(async () => {
      await h.driver.untilReady();
    });

    describe("send", () => {
      it("returns a receipt naming the message as the recipient got it: exactly the text, once", async () => {
        const text = `hello from the contract ${counter} – ünïcødé ✓`;
        const message = anOutbound(h, text);
        const receipt = await h.provider.send(message);

        expect(receipt.providerMessageId).toEqual(expect.any(String));
        expect(receipt.providerMessageId).not.toBe("");
        expect(["sent", "delivered", "read"]).toContain(receipt.status ?? "sent");
        expect(await untilReceived(h, text)).toEqual([receipt.providerMessageId]);
      });

      it("keeps messages to one recipient apart: two sends, two ids, each text once", async () => {
        const first = anOutbound(h, `first ${counter}`);
        const second = anOutbound(h, `second ${counter}`);
        const a = await h.provider.send(first);
        const b = await h.provider.send(second);

        expect(a.providerMessageId).not.toBe(b.providerMessageId);
        expect(await untilReceived(h, first.text)).toEqual([a.providerMessageId]);
        expect(await untilReceived(h, second.text)).toEqual([b.providerMessageId]);
      });

      it.skipIf(idempotent !== true)(
        `sending the same message id twice gives the same provider id and one message at the recipient${
          idempotent === true ? "" : ` (not promised: ${idempotent.whyNot})`
        }`,
        async () => {
          const message = anOutbound(h, `twice ${counter}`);
          const first = await h.provider.send(message);
          const again = await h.provider.send(message);

          expect(again.providerMessageId).toBe(first.providerMessageId);
          expect(await untilReceived(h, message.text)).toEqual([first.providerMessageId]);
        },
      );
    });

    describe("failures", () => {
      it("a retryable failure is a ProviderError with retryable true, and nothing reaches the recipient", async () => {
        await h.driver.failNextSend("retryable");
        const message = anOutbound(h, `retryable ${counter}`);
        const error = await sendFailure(h.provider, message);

        expect(error.retryable).toBe(true);
        expect(error.providerId).toBe(h.provider.id);
        expect(await distinctWithText(h, message.text)).toEqual([]);

        // What retryable promises: the same message sent again later gets through, once.
        await h.driver.untilReady();
        const receipt = await h.provider.send(message);
        expect(await untilReceived(h, message.text)).toEqual([receipt.providerMessageId]);
      });

      it("a terminal failure is a ProviderError with retryable false, and nothing reaches the recipient", async () => {
        await h.driver.failNextSend("terminal");
        const message = anOutbound(h, `terminal ${counter}`);
        const error = await sendFailure(h.provider, message);

        expect(error.retryable).toBe(false);
        expect(error.providerId).toBe(h.provider.id);
        expect(error.message).not.toBe("");
        expect(await distinctWithText(h, message.text)).toEqual([]);
      });
    });

    describe("events", () => {
      it("the recipient's delivered and read reports reach subscribers as status events with the provider message id", async () => {
        const message = anOutbound(h, `statuses ${counter}`);
        const receipt = await h.provider.send(message);
        const id = receipt.providerMessageId;

        await h.driver.reportStatus({ message, receipt }, "delivered");
        await events.waitFor("status", (e) => e.providerMessageId === id && e.status === "delivered", "delivered");
        await h.driver.reportStatus({ message, receipt }, "read");
        await events.waitFor("status", (e) => e.providerMessageId === id && e.status === "read", "read");

        const reported = events.all.filter(
          (e): e is Extract<ProviderEvent, { type: "status" }> => e.type === "status" && e.providerMessageId === id,
        );
        // Nothing but the sent/delivered/read of a message that went well, and read last.
        expect(reported.every((e) => e.status !== "failed" && e.error === undefined)).toBe(true);
        expect(reported.at(-1)?.status).toBe("read");
      });

      it("an inbound message reaches subscribers with from, to, text, channel, provider and session", async () => {
        const text = `inbound ${counter} – ünïcødé ✓`;
        await h.driver.deliverInbound(h.contact, text);
        const { message } = await events.waitFor("inbound", (e) => e.message.text === text, "the inbound message");

        expect(message).toMatchObject({
          provider: h.provider.id,
          session: h.session,
          channel: h.channel,
          from: h.contact,
          to: h.account,
          text,
          media: [],
        });
        expect(message.providerMessageId).toEqual(expect.any(String));
        expect(message.providerMessageId).not.toBe("");
        expect(message.at).toBeInstanceOf(Date);
      });
    });

    describe("sessions", () => {
      it("the linked session exists and is ready; an unknown one is neither", () => {
        expect(h.provider.hasSession(h.session)).toBe(true);
        expect(h.provider.isReady(h.session)).toBe(true);
        expect(h.provider.hasSession("no-such-session")).toBe(false);
        expect(h.provider.isReady("no-such-session")).toBe(false);
        expect(h.provider.channels).toContain(h.channel);
      });

      it("offers login management exactly when it declares logins", () => {
        expect(h.provider.sessions !== undefined).toBe(capabilities.logins);
      });

      it.skipIf(!capabilities.logins)(
        "a provider with logins lists the session as open (only providers with logins)",
        () => {
          const sessions = h.provider.sessions!;
          expect(sessions.get(h.session)).toMatchObject({ id: h.session, provider: h.provider.id, state: "open" });
          expect(sessions.list().map((s) => s.id)).toContain(h.session);
          expect(sessions.get("no-such-session")).toBeUndefined();
        },
      );

      it("once stopped, the session still exists but is not ready, and a send fails retryably", async () => {
        // A provider of its own: a stopped WhatsApp provider cannot be started again.
        const own = await start();
        try {
          await own.driver.untilReady();
          await own.provider.stop();

          expect(own.provider.hasSession(own.session)).toBe(true);
          expect(own.provider.isReady(own.session)).toBe(false);
          const message = anOutbound(own, `after stop ${counter}`);
          const error = await sendFailure(own.provider, message);
          expect(error.retryable).toBe(true);
          expect(await own.driver.receivedBy(own.recipient)).toEqual([]);
        } finally {
          await own.dispose();
        }
      });
    });
  });
}
