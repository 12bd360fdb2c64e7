/**
 * The logger the connector needs: pino's shape (a pino `Logger` fits), which
 * is also what Baileys expects of its own logger.
 */
export interface ConnectorLogger {
  level: string;
  child(bindings: Record<string, unknown>): ConnectorLogger;
  trace(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

const SEVERITY = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * The logger handed to Baileys for one session: a child at `level`, or at the
 * parent's level when that is quieter (a silent gateway keeps Baileys
 * silent). Baileys' debug and trace output can carry key material, hence a
 * separate level, `warn` by default.
 */
export function baileysLogger(logger: ConnectorLogger, session: string, level: string): ConnectorLogger {
  const child = logger.child({ session, lib: "baileys" });
  const wanted = SEVERITY.indexOf(level);
  const parent = SEVERITY.indexOf(logger.level);
  child.level = wanted >= 0 && parent > wanted ? logger.level : level;
  return child;
}
