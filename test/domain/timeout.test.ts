import { describe, expect, it } from "vitest";
import { withTimeout } from "../../src/domain/timeout.ts";

describe("withTimeout", () => {
  it("settles like the work when it finishes first", async () => {
    await expect(withTimeout(Promise.resolve(7), 1_000, () => new Error("late"))).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1_000, () => new Error("late"))).rejects.toThrow(
      "boom",
    );
  });

  it("rejects with the given error when the work is slower", async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withTimeout(never, 5, () => new Error("timed out"))).rejects.toThrow("timed out");
  });

  it("swallows a rejection of the work that comes after the timeout", async () => {
    let fail!: (e: Error) => void;
    const work = new Promise<number>((_, reject) => (fail = reject));
    await expect(withTimeout(work, 5, () => new Error("timed out"))).rejects.toThrow("timed out");
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    fail(new Error("late failure"));
    await new Promise((r) => setTimeout(r, 20));
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled).toEqual([]);
  });
});
