import { describe, expect, it } from "vitest";
import { canTransition, MessageStatuses, statusesPassed } from "../../src/domain/message-status.ts";

describe("message status transitions", () => {
  it("moves forward through the delivery states", () => {
    expect(canTransition("queued", "sending")).toBe(true);
    expect(canTransition("sending", "sent")).toBe(true);
    expect(canTransition("sent", "delivered")).toBe(true);
    expect(canTransition("delivered", "read")).toBe(true);
    expect(canTransition("sent", "read")).toBe(true);
  });

  it("says which statuses a move passes: the ones a receipt implies, then the target", () => {
    expect(statusesPassed("sent", "read")).toEqual(["delivered", "read"]);
    expect(statusesPassed("sending", "read")).toEqual(["sent", "delivered", "read"]);
    expect(statusesPassed("sending", "delivered")).toEqual(["sent", "delivered"]);
    expect(statusesPassed("delivered", "read")).toEqual(["read"]);
    expect(statusesPassed("sending", "sent")).toEqual(["sent"]);
    expect(statusesPassed("sent", "failed")).toEqual(["failed"]);
    expect(statusesPassed("queued", "sending")).toEqual(["sending"]);
    expect(statusesPassed("sending", "queued")).toEqual(["queued"]);
  });

  it("never moves backwards once sent", () => {
    expect(canTransition("delivered", "sent")).toBe(false);
    expect(canTransition("read", "delivered")).toBe(false);
    expect(canTransition("read", "sent")).toBe(false);
    expect(canTransition("sent", "queued")).toBe(false);
    expect(canTransition("sent", "sending")).toBe(false);
  });

  it("lets an attempt go back to the queue (the dispatcher's lease cycle)", () => {
    expect(canTransition("sending", "queued")).toBe(true);
  });

  it("has terminal states that accept nothing", () => {
    for (const status of MessageStatuses) {
      expect(canTransition("failed", status)).toBe(false);
      expect(canTransition("read", status)).toBe(false);
      expect(canTransition("received", status)).toBe(false);
    }
  });
});
