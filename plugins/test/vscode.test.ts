// The VS Code extension's logic without VS Code: edit tallies, hints as
// diagnostics, the PR panel's HTML, and the diff from a real git repository.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { EditTally, measure } from "../vscode/src/edits";
import { diffAgainstBase } from "../vscode/src/git";
import { toDiagnostics } from "../vscode/src/hints";
import { draftHtml } from "../vscode/src/panel";

test("typing on one line counts that line once and every character", () => {
  const tally = new EditTally();
  for (const ch of "let total = 0;") {
    tally.add("src/a.ts", [{ startLine: 4, rangeLength: 0, rangeLines: 0, text: ch }]);
  }
  tally.add("src/a.ts", [{ startLine: 9, rangeLength: 12, rangeLines: 2, text: "" }]);
  const [summary] = tally.flush("ws", true);
  assert.equal(summary.chars_changed, 14 + 12);
  assert.equal(summary.lines_changed, 1 + 3);
  assert.equal(summary.speak, true);
  assert.equal(summary.excerpt, "let total = 0;");
  assert.deepEqual(tally.flush("ws", true), [], "a flush starts afresh");
  assert.deepEqual(measure({ startLine: 0, rangeLength: 0, rangeLines: 0, text: "a\nb\nc" }).lines, [0, 1, 2]);
});

test("hints become whole-line diagnostics inside the document", () => {
  const diagnostics = toDiagnostics(
    [
      { start_line: 1, end_line: 1, severity: "warning", message: "unwrap", source: "rule" },
      { start_line: 3, end_line: 9, severity: "info", message: "long", source: "llm" },
      { start_line: 40, end_line: 40, severity: "info", message: "outside", source: "llm" },
    ],
    5,
  );
  assert.deepEqual(
    diagnostics.map((d) => [d.startLine, d.endLine, d.severity, d.source]),
    [
      [0, 0, "warning", "HausKI"],
      [2, 4, "information", "HausKI"],
    ],
  );
});

test("the PR panel escapes the draft and runs only its own script", () => {
  const html = draftHtml({ title: `Fix "<b>" & co`, body: "</textarea><script>alert(1)</script>" }, "n0nce");
  assert.ok(!html.includes("<script>alert"), html);
  assert.ok(html.includes("&#60;/textarea&#62;"));
  assert.ok(html.includes(`script-src 'nonce-n0nce'`));
  assert.equal(html.match(/<script/g)?.length, 1);
});

test("the diff against the base branch holds committed and uncommitted changes", async () => {
  const repo = mkdtempSync(join(tmpdir(), "hauski-git-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.org", ...args], { cwd: repo });
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "a.txt"), "one\n");
  git("add", "a.txt");
  git("commit", "-q", "-m", "start");
  git("checkout", "-q", "-b", "feature");
  writeFileSync(join(repo, "a.txt"), "one\ntwo\n");
  git("commit", "-q", "-am", "two");
  writeFileSync(join(repo, "b.txt"), "new\n");
  git("add", "b.txt");
  const diff = await diffAgainstBase(repo);
  assert.match(diff, /\+\+\+ b\/a\.txt/);
  assert.match(diff, /\+two/);
  assert.match(diff, /\+\+\+ b\/b\.txt/);
  await assert.rejects(diffAgainstBase(repo, "release"), /release does not exist/);
});
