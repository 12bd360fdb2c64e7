import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteEventLog } from "../../src/adapters/event-log/sqlite/sqlite.event-log.ts";
import { InProcessDomainEvents } from "../../src/app/in-process-domain-events.ts";
import { EventRecorder } from "../../src/app/events/event-recorder.ts";
import { EventStream } from "../../src/app/events/event-stream.ts";
import type { Clock } from "../../src/domain/ports/clock.port.ts";
import type { SessionInfo } from "../../src/domain/session.ts";
import { silentLogger } from "../../src/domain/ports/logger.port.ts";
import { tempDir } from "../support/temp-dir.ts";

const HOUR = 3_600_000;

function session(state: SessionInfo["state"]): SessionInfo {
  return { id: "default", provider: "baileys", state, me: null, lastDisconnect: null } as SessionInfo;
}

class ManualClock implements Clock {
  constructor(public at: number) {}
  now(): Date {
    return new Date(this.at);
  }
}

describe("event recorder and stream", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp() {
    const dir = await tempDir("events-");
    cleanups.push(dir.remove);
    const log = new SqliteEventLog({ path: join(dir.path, "events.db"), synchronous: "normal" });
    cleanups.push(() => log.close());
    const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
    const events = new InProcessDomainEvents(silentLogger);
    const recorder = new EventRecorder(log, clock, silentLogger, { retentionHours: 24, pruneIntervalMs: HOUR });
    recorder.attach(events);
    cleanups.push(() => recorder.stop());
    return { log, clock, events, recorder };
  }

  async function readAll(stream: EventStream): Promise<string> {
    const reader = stream.body.getReader();
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text;
      text += new TextDecoder().decode(value);
    }
  }

  it("records public events only, with the webhook body, and prunes those past the retention", async () => {
    const { log, clock, events, recorder } = await setUp();
    events.publish({ type: "session.state", session: session("connecting") });
    events.publish({ type: "session.ready", provider: "baileys", session: "default" });
    clock.at += 25 * HOUR;
    events.publish({ type: "session.state", session: session("open") });
    await recorder.stop();
    const kept = await log.since("0", 10);
    expect(kept.map((e) => e.type)).toEqual(["session.state", "session.state"]);
    expect(JSON.parse(kept[0]!.body)).toEqual({
      type: "session.state",
      timestamp: "2030-01-01T00:00:00.000Z",
      data: session("connecting"),
    });
    expect(await recorder.pruneOnce()).toBe(1);
    expect((await log.since("0", 10)).map((e) => e.id)).toEqual([kept[1]!.id]);
  });

  it("starts with a reset when events after Last-Event-ID were pruned, then replays what is kept", async () => {
    const { log, clock, events, recorder } = await setUp();
    events.publish({ type: "session.state", session: session("connecting") });
    events.publish({ type: "session.state", session: session("reconnecting") });
    clock.at += 25 * HOUR;
    events.publish({ type: "session.state", session: session("open") });
    await recorder.stop();
    await recorder.pruneOnce();
    const [first] = await log.since("0", 1);
    const stream = new EventStream(log, recorder, {
      lastEventId: String(Number(first!.id) - 2),
      types: undefined,
      heartbeatMs: 60_000,
      maxPendingEvents: 100,
      maxPendingBytes: 1 << 20,
    });
    await stream.run();
    stream.end();
    const text = await readAll(stream);
    const frames = text.split("\n\n").filter((f) => f && !f.startsWith(":"));
    expect(frames[0]).toMatch(/^event: reset\ndata: \{"reason":"events after the given id/);
    expect(frames.slice(1)).toEqual([`id: ${first!.id}\nevent: session.state\ndata: ${first!.body}`]);
  });

  it("resets and replays from the start for an id newer than any this log gave (a replaced database)", async () => {
    const { log, events, recorder } = await setUp();
    events.publish({ type: "session.state", session: session("connecting") });
    await recorder.stop();
    const stream = new EventStream(log, recorder, {
      lastEventId: "500",
      types: undefined,
      heartbeatMs: 60_000,
      maxPendingEvents: 100,
      maxPendingBytes: 1 << 20,
    });
    await stream.run();
    stream.end();
    const frames = (await readAll(stream)).split("\n\n").filter((f) => f && !f.startsWith(":"));
    expect(frames.map((f) => f.split("\n")[0])).toEqual(["event: reset", "id: 1"]);
  });

  it("stops listening when the client goes away, and ends every stream when the recorder stops", async () => {
    const { log, events, recorder } = await setUp();
    const options = {
      lastEventId: undefined,
      types: undefined,
      heartbeatMs: 60_000,
      maxPendingEvents: 50,
      maxPendingBytes: 1 << 20,
    };
    const leaving = new EventStream(log, recorder, options);
    const staying = new EventStream(log, recorder, options);
    await Promise.all([leaving.run(), staying.run()]);
    expect(recorder.listenerCount).toBe(2);
    await leaving.body.cancel();
    expect(leaving.closed).toBe(true);
    expect(recorder.listenerCount).toBe(1);
    events.publish({ type: "session.state", session: session("open") });
    await recorder.stop();
    expect(recorder.listenerCount).toBe(0);
    const frames = (await readAll(staying)).split("\n\n").filter(Boolean);
    expect(frames).toEqual([": connected", expect.stringMatching(/^id: \d+\nevent: session.state\n/)]);
  });

  it("drops a client that never reads once its bound is reached, and holds nothing for it afterwards", async () => {
    const { log, events, recorder } = await setUp();
    const stream = new EventStream(log, recorder, {
      lastEventId: undefined,
      types: undefined,
      heartbeatMs: 60_000,
      maxPendingEvents: 50,
      maxPendingBytes: 1 << 20,
    });
    await stream.run();
    expect(recorder.listenerCount).toBe(1);
    for (let n = 0; n < 49; n++) events.publish({ type: "session.state", session: session("open") });
    await eventuallyTrue(() => stream.pending.events === 50); // 49 events and the opening comment
    expect(stream.dropped).toBe(false);
    for (let n = 0; n < 500; n++) events.publish({ type: "session.state", session: session("open") });
    await eventuallyTrue(() => stream.dropped);
    expect(stream.closed).toBe(true);
    expect(stream.pending).toEqual({ events: 0, bytes: 0 });
    expect(recorder.listenerCount).toBe(0);
    const text = await readAll(stream);
    expect(text).toBe('event: dropped\ndata: {"reason":"slow consumer","lastEventId":"0"}\n\n');
  });
});

async function eventuallyTrue(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
