// The PR draft's webview: title and body editable, each with a copy button.
// Pure HTML from the draft, everything escaped, scripts only with the nonce.

import type { PrDraft } from "../../shared/client";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function draftHtml(draft: PrDraft, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<title>PR draft</title></head>
<body>
<label for="title">Title</label>
<input id="title" style="width:100%" value="${escapeHtml(draft.title)}">
<button data-copy="title">Copy title</button>
<label for="body">Body</label>
<textarea id="body" rows="20" style="width:100%">${escapeHtml(draft.body)}</textarea>
<button data-copy="body">Copy body</button>
<script nonce="${nonce}">
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", () =>
    navigator.clipboard.writeText(document.getElementById(button.dataset.copy).value));
}
</script>
</body></html>`;
}
