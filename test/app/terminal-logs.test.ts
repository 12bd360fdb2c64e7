import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, type LogFormat } from "../../src/app/logger.ts";

const SECRET = "SECRET-terminal-9c3e1a";

/** A logger writing into memory, and everything it wrote. */
function capture(format: LogFormat) {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger("info", sink, { format }), text: () => chunks.join("") };
}

function logSecrets(logger: ReturnType<typeof createLogger>): void {
  logger.info(
    {
      headers: { authorization: `Bearer ${SECRET}` },
      apiKey: SECRET,
      twilio: { authToken: SECRET },
      webhook: { secret: SECRET },
      session: { creds: { noiseKey: SECRET } },
    },
    "request with secrets",
  );
}

describe("log formats", () => {
  it("pretty: a human line with the message and its fields, not JSON", () => {
    const { logger, text } = capture("pretty");
    logger.info({ port: 4321 }, "gateway listening");
    const lines = text().split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/INFO.*gateway listening/);
    expect(() => JSON.parse(lines[0]!) as unknown).toThrow();
    expect(text()).toContain("port: 4321");
  });

  it("json: one JSON object per line", () => {
    const { logger, text } = capture("json");
    logger.info({ port: 4321 }, "gateway listening");
    const line = JSON.parse(text().trim()) as { msg: string; port: number; level: number };
    expect(line).toMatchObject({ msg: "gateway listening", port: 4321, level: 30 });
  });

  it.each(["pretty", "json"] as const)("%s: secrets are redacted", (format) => {
    const { logger, text } = capture(format);
    logSecrets(logger);
    expect(text()).toContain("request with secrets");
    expect(text()).toContain("[redacted]");
    expect(text()).not.toContain(SECRET);
  });
});
