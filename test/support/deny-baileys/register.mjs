// `node --import <this file>`: registers hooks that refuse to resolve Baileys
// and append every attempt to $DENY_BAILEYS_LOG, so a test can prove a
// process never loads it (the throw alone could be swallowed by a caller).
import { register } from "node:module";
import process from "node:process";

register("./hooks.mjs", import.meta.url, { data: { logFile: process.env.DENY_BAILEYS_LOG } });
