// Edit summaries for the commentary: what a burst of edits changed, added
// up locally and sent at most once per flush interval, so typing is not a
// request per keystroke. The daemon decides when to comment.

import type { EditSummary } from "../../shared/client";

/** One change as VS Code reports it (TextDocumentContentChangeEvent's parts). */
export interface Change {
  /** The first line of the replaced range (0-based). */
  startLine: number;
  /** Characters replaced. */
  rangeLength: number;
  /** Lines the replaced range spanned beyond its first (end line − start line). */
  rangeLines: number;
  /** The inserted text. */
  text: string;
}

/** The lines one change touched, and its characters (replaced + inserted). */
export function measure(change: Change): { chars: number; lines: number[] } {
  const inserted = change.text.split("\n").length - 1;
  const span = Math.max(change.rangeLines, inserted);
  const lines = Array.from({ length: span + 1 }, (_, i) => change.startLine + i);
  return { chars: change.rangeLength + change.text.length, lines };
}

interface Pending {
  chars: number;
  lines: Set<number>;
  excerpt: string;
}

/** Edits gathered per file until the next flush: characters summed, lines counted once. */
export class EditTally {
  private pending = new Map<string, Pending>();

  add(file: string, changes: Change[]): void {
    const entry = this.pending.get(file) ?? { chars: 0, lines: new Set<number>(), excerpt: "" };
    for (const change of changes) {
      const { chars, lines } = measure(change);
      entry.chars += chars;
      for (const line of lines) entry.lines.add(line);
      if (change.text.length > 0) entry.excerpt = (entry.excerpt + change.text).slice(-2000);
    }
    if (entry.chars > 0) this.pending.set(file, entry);
  }

  /** The summaries to send, one per file, and a fresh start. */
  flush(workspace: string, speak: boolean): EditSummary[] {
    const summaries = [...this.pending].map(([file, e]) => ({
      workspace,
      file,
      chars_changed: e.chars,
      lines_changed: e.lines.size,
      excerpt: e.excerpt,
      speak,
    }));
    this.pending.clear();
    return summaries;
  }
}
