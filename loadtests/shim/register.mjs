// `node --import ./loadtests/shim/register.mjs loadtests/shim/run.mjs SCRIPT`
import { register } from "node:module";

register("./hooks.mjs", import.meta.url);
