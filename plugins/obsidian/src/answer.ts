// An answer from the vault, as Markdown with links to the notes it drew on.

import type { Answer } from "../../shared/client";

/** `notes/plumber.md` → `[[notes/plumber]]`, Obsidian's link to that note. */
export function noteLink(source: string): string {
  return `[[${source.replace(/\.md$/i, "")}]]`;
}

export function answerMarkdown(question: string, answer: Answer): string {
  const sources = [...new Set(answer.sources)];
  const from = sources.length ? `\n\nFrom ${sources.map(noteLink).join(", ")}` : "\n\n(No note matched.)";
  return `**${question}**\n\n${answer.text.trim()}${from}`;
}
