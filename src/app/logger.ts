import pino from "pino";
import type { Logger } from "../domain/ports/logger.port.ts";

export type { Logger };

/**
 * Structured JSON logs, one line per event. Anything that might carry a
 * secret is redacted by path, as a second line of defence: code should not
 * log secrets in the first place.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
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
    },
    destination,
  );
}
