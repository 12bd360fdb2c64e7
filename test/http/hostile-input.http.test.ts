import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METADATA_MAX_DEPTH } from "../../src/app/http/schemas.ts";
import { startInProcessGateway, type InProcessGateway } from "../support/in-process-gateway.ts";

// Inputs the fuzzer (test/fuzz) found to break a route, pinned so they stay fixed.

let gw: InProcessGateway;
beforeAll(async () => {
  gw = await startInProcessGateway();
});
afterAll(async () => {
  await gw.close();
});

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

async function post(raw: string, headers: Record<string, string> = {}) {
  return gw.call("POST", "/messages", { raw, headers: { "content-type": "application/json", ...headers } });
}

describe("POST /messages with deeply nested metadata", () => {
  it.each([5_000, 30_000])(
    "answers 400 naming metadata, not 500, for %i levels (it overflowed JSON.stringify)",
    async (depth) => {
      for (const headers of [{}, { "idempotency-key": `deep-${depth}` }] as Record<string, string>[]) {
        const res = await post(`{"to":"+40712345678","text":"x","metadata":{"a":${nested(depth)}}}`, headers);
        expect(res.status).toBe(400);
        const body = (await res.json()) as { code: string; errors: { field: string; message: string }[] };
        expect(body.code).toBe("REQUEST.INVALID");
        expect(body.errors).toEqual([
          { field: "metadata", message: `must be nested at most ${METADATA_MAX_DEPTH} levels deep` },
        ]);
      }
    },
  );

  it("accepts metadata nested exactly to the limit, and stores it as sent", async () => {
    // metadata itself is the first level.
    const metadata = { a: JSON.parse(nested(METADATA_MAX_DEPTH - 1)) as unknown };
    const res = await post(JSON.stringify({ to: "+40712345678", text: "x", metadata }), {
      "idempotency-key": "at-limit",
    });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { metadata: unknown }).metadata).toEqual(metadata);
    const over = await post(JSON.stringify({ to: "+40712345678", text: "x", metadata: { a: [metadata.a] } }));
    expect(over.status).toBe(400);
  });
});
