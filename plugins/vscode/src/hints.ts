// The daemon's hints as editor diagnostics: 1-based line ranges become
// 0-based whole-line ranges, clamped to the document, marked "HausKI".

import type { Hint } from "../../shared/client";

export interface DiagnosticLike {
  startLine: number;
  endLine: number;
  message: string;
  severity: "information" | "warning";
  source: "HausKI";
}

export function toDiagnostics(hints: Hint[], lineCount: number): DiagnosticLike[] {
  const last = Math.max(lineCount - 1, 0);
  return hints
    .filter((h) => h.start_line >= 1 && h.start_line <= lineCount)
    .map((h) => ({
      startLine: Math.min(h.start_line - 1, last),
      endLine: Math.min(Math.max(h.end_line, h.start_line) - 1, last),
      message: h.message,
      severity: h.severity === "warning" ? "warning" : "information",
      source: "HausKI",
    }));
}
