/**
 * Structured logging as the gateway uses it: one line per event, fields
 * first. pino's `Logger` fits this shape, and so does what Baileys expects of
 * its logger, so app code and every adapter take this one interface.
 */
export interface Logger {
  level: string;
  child(bindings: Record<string, unknown>): Logger;
  trace(fields: unknown, message?: string): void;
  debug(fields: unknown, message?: string): void;
  info(fields: unknown, message?: string): void;
  warn(fields: unknown, message?: string): void;
  error(fields: unknown, message?: string): void;
}

/** Says nothing: for stores and tools built without a logger. */
export const silentLogger: Logger = {
  level: "silent",
  child: () => silentLogger,
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};
