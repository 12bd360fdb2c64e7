import pino from "pino";
import pretty from "pino-pretty";
import type { Logger } from "../domain/ports/logger.port.ts";

export type { Logger };

/** `json`: one JSON object per line (containers, log shippers); `pretty`: lines for a person at a terminal. */
export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  readonly format?: LogFormat;
  /** Colours in pretty mode; only worth it when the lines reach a terminal. */
  readonly colorize?: boolean;
}

/**
 * Structured logs, one event per line. Anything that might carry a secret is
 * redacted by path, as a second line of defence: code should not log secrets
 * in the first place. Redaction happens before formatting, so pretty lines
 * are as clean as JSON ones.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  { format = "json", colorize = false }: LoggerOptions = {},
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "messaging-gateway" },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "*.headers.authorization",
        "apiKey",
        "*.apiKey",
        "authToken",
        "*.authToken",
        "secret",
        "*.secret",
        "creds",
        "*.creds",
      ],
      censor: "[redacted]",
    },
  };
  if (format === "json") return pino(options, destination);
  // In-process and synchronous rather than pino's worker-thread transport:
  // it also runs under Deno, and lines logged just before exit are not lost.
  const stream = pretty({
    colorize,
    sync: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,service",
    ...(destination ? { destination } : {}),
  });
  return pino(options, stream);
}
