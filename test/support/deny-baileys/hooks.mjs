import { appendFileSync } from "node:fs";

let logFile;

export function initialize(data) {
  logFile = data?.logFile;
}

const isBaileys = (s) =>
  s === "@whiskeysockets/baileys" ||
  s.startsWith("@whiskeysockets/baileys/") ||
  s.includes("/node_modules/@whiskeysockets/baileys/");

export async function resolve(specifier, context, next) {
  if (isBaileys(specifier)) deny(specifier, context.parentURL);
  const result = await next(specifier, context);
  // Also catches Baileys reached by a path or another name (a re-export, a relative import inside it).
  if (isBaileys(result.url)) deny(result.url, context.parentURL);
  return result;
}

function deny(what, parent) {
  if (logFile) appendFileSync(logFile, `${JSON.stringify({ what, parent })}\n`);
  throw new Error(`Baileys must not be loaded in this process: ${what} (from ${parent})`);
}
