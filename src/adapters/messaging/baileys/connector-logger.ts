import type { Logger } from "../../../domain/ports/logger.port.ts";

const SEVERITY = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

/**
 * The logger handed to Baileys for one session: a child at `level`, or at the
 * parent's level when that is quieter (a silent gateway keeps Baileys
 * silent). Baileys' debug and trace output can carry key material, hence a
 * separate level, `warn` by default.
 */
export function baileysLogger(logger: Logger, session: string, level: string): Logger {
  const child = logger.child({ session, lib: "baileys" });
  const wanted = SEVERITY.indexOf(level);
  const parent = SEVERITY.indexOf(logger.level);
  child.level = wanted >= 0 && parent > wanted ? logger.level : level;
  return child;
}
