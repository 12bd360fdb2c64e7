import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configKeys } from "../../src/app/config/config.schema.ts";

const root = join(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

describe("configuration documentation", () => {
  it.each(["README.md", ".env.example"])("%s documents every variable the schema reads", (file) => {
    const text = read(file);
    const missing = configKeys.filter((key) => !new RegExp(`\\b${key}\\b`).test(text));
    expect(missing).toEqual([]);
  });

  it(".env.example names no variable the gateway does not read", () => {
    const documented = [...read(".env.example").matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(documented.filter((key) => !configKeys.includes(key!))).toEqual([]);
  });
});
