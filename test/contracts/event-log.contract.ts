import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventLog } from "../../src/domain/ports/event-log.port.ts";

export interface EventLogHarness {
  readonly log: EventLog;
  cleanup(): Promise<void>;
}

const T0 = new Date("2030-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0.getTime() + ms);
const body = (n: number) => JSON.stringify({ type: "message.status", timestamp: T0.toISOString(), data: { n } });

/** The one contract every EventLog adapter passes. */
export function eventLogContract(name: string, open: () => Promise<EventLogHarness>): void {
  describe(`EventLog contract: ${name}`, () => {
    let h: EventLogHarness;
    let log: EventLog;
    beforeEach(async () => {
      h = await open();
      log = h.log;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it("gives increasing integer ids and keeps bodies byte for byte", async () => {
      const tricky = '{"data":{"text":"héllo ✓ \\u0000"}}';
      const a = await log.append({ type: "message.inbound", body: tricky, at: at(0) });
      const b = await log.append({ type: "message.status", body: body(2), at: at(1) });
      expect(a.id).toMatch(/^\d+$/);
      expect(Number(b.id)).toBeGreaterThan(Number(a.id));
      const all = await log.since("0", 10);
      expect(all.map((e) => [e.id, e.type, e.body])).toEqual([
        [a.id, "message.inbound", tricky],
        [b.id, "message.status", body(2)],
      ]);
      expect(all[0]?.at.getTime()).toBe(at(0).getTime());
    });

    it("returns the events after an id, oldest first, up to the limit", async () => {
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push((await log.append({ type: "message.status", body: body(n), at: at(n) })).id);
      expect((await log.since(ids[1]!, 2)).map((e) => e.id)).toEqual([ids[2], ids[3]]);
      expect((await log.since(ids[4]!, 10)).map((e) => e.id)).toEqual([]);
      expect((await log.since("not-a-number", 1)).map((e) => e.id)).toEqual([ids[0]]);
    });

    it("prunes events older than a moment and never reuses their ids", async () => {
      const old = await log.append({ type: "message.status", body: body(1), at: at(0) });
      const kept = await log.append({ type: "message.status", body: body(2), at: at(10_000) });
      expect(await log.oldestId()).toBe(old.id);
      expect(await log.prune(at(5_000))).toBe(1);
      expect(await log.oldestId()).toBe(kept.id);
      expect((await log.since("0", 10)).map((e) => e.id)).toEqual([kept.id]);
      expect(await log.prune(at(20_000))).toBe(1);
      expect(await log.oldestId()).toBeUndefined();
      expect(await log.newestId()).toBe(kept.id);
      const next = await log.append({ type: "message.status", body: body(3), at: at(30_000) });
      expect(Number(next.id)).toBeGreaterThan(Number(kept.id));
    });

    it("reports newest id 0 and no oldest when nothing was ever recorded", async () => {
      expect(await log.newestId()).toBe("0");
      expect(await log.oldestId()).toBeUndefined();
    });
  });
}
