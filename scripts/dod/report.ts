import type { DodResult, Figure } from "./types.ts";

const TITLES: Record<DodResult["id"], string> = {
  health: "DoD-1: Deploy + Health",
  qr: "DoD-2: QR Generation",
  "cold-start": "DoD-3: Cold Start",
  mttr: "DoD-4: MTTR",
  queue: "DoD-5: Queue",
  soak: "DoD-6: Soak",
  twilio: "Twilio service",
};

function formatFigure(value: Figure): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(1);
  return String(value);
}

/** `key=value` pairs of the figures a human reads first (every figure is in --json). */
function figures(result: DodResult): string {
  return Object.entries(result.figures)
    .map(([key, value]) => `${key}=${formatFigure(value)}`)
    .join(" ");
}

/** The seed report's table, with the figures of this run. */
export function table(results: readonly DodResult[]): string {
  const rows = results.map((r) => [
    TITLES[r.id],
    r.pass ? "✅ PASS" : "❌ FAIL",
    figures(r),
    r.pass ? r.detail || "-" : r.detail,
  ]);
  const header = ["DoD", "Status", "Figures", "Blocker / detail"];
  const all = [header, ...rows];
  // Wide text columns would make the table unreadable: only the short ones are padded.
  const widths = [0, 1].map((i) => Math.max(...all.map((row) => [...row[i]!].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.replace(/\|/g, "\\|").replace(/\n/g, " "))).join(" | ")} |`;
  const passed = results.filter((r) => r.pass).length;
  return [
    line(header),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} | --- | --- |`,
    ...rows.map(line),
    "",
    `${passed}/${results.length} PASS`,
  ].join("\n");
}

export function json(results: readonly DodResult[]): string {
  return JSON.stringify({
    dods: results.map(({ id, pass, figures: f, detail }) => ({ id, pass, figures: f, detail })),
  });
}
