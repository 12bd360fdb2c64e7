import { describe, expect, it } from "vitest";
import { isWebhookEvent } from "../../src/app/webhooks/webhook-event.ts";
import type { DomainEvent } from "../../src/domain/ports/domain-events.port.ts";
import type { Message } from "../../src/domain/message.ts";
import type { SessionInfo } from "../../src/domain/session.ts";

const message = { id: "m-1" } as Message;
const session = { id: "default", provider: "baileys", state: "open" } as SessionInfo;

describe("isWebhookEvent", () => {
  it("sends the public events to webhooks and keeps the internal ones in the process", () => {
    const events: DomainEvent[] = [
      { type: "message.inbound", message },
      { type: "message.status", message, reached: ["sent"] },
      { type: "session.state", session },
      { type: "message.accepted", message },
      { type: "session.ready", provider: "baileys", session: "default" },
    ];
    expect(events.filter(isWebhookEvent).map((e) => e.type)).toEqual([
      "message.inbound",
      "message.status",
      "session.state",
    ]);
  });
});
