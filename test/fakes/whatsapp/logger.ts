/**
 * The logger the simulator writes to; the same shape as Baileys' `ILogger`,
 * so a pino logger fits, and so does what Baileys needs internally.
 * When none is passed the simulator stays quiet.
 */
export interface SimLogger {
  level: string;
  child(bindings: Record<string, unknown>): SimLogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** A logger that drops everything. */
export const silentLogger: SimLogger = {
  level: "silent",
  child: () => silentLogger,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
