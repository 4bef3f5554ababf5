// Both plugins' clients against a real `hauski serve` with the small
// models, started by tests/it/editor_plugins.rs, which passes its address
// (HAUSKI_URL) and token (HAUSKI_TOKEN).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BadToken, type Canvas, DaemonDown, HausKiClient, ROUTES } from "../shared/client";
import { addSuggestions, canvasProblem } from "../obsidian/src/canvas";
import { EditTally } from "../vscode/src/edits";
import { diffAgainstBase } from "../vscode/src/git";
import { toDiagnostics } from "../vscode/src/hints";

const url = process.env.HAUSKI_URL;
const token = process.env.HAUSKI_TOKEN;
if (!url || !token) {
  throw new Error("HAUSKI_URL and HAUSKI_TOKEN name the daemon to test; tests/it/editor_plugins.rs starts one and sets them");
}
const client = new HausKiClient({ baseUrl: url, token });

test("every route and field the client sends is in the daemon's OpenAPI document", async () => {
  const response = await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
  const document = (await response.json()) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } }> } }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  };
  for (const [name, route] of Object.entries(ROUTES)) {
    const operation = document.paths[route.path]?.[route.method];
    assert.ok(operation, `${name}: ${route.method} ${route.path} is not in /openapi.json`);
    const ref = operation.requestBody?.content["application/json"]?.schema?.$ref;
    assert.ok(ref, `${name}: no JSON request body`);
    const properties = document.components.schemas[ref.split("/").pop() ?? ""]?.properties ?? {};
    for (const field of route.fields) {
      assert.ok(field in properties, `${name}: the daemon's request body has no field ${field}`);
    }
  }
});

test("a PR draft for a real diff has a title and a body", async () => {
  const repo = mkdtempSync(join(tmpdir(), "hauski-pr-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.org", ...args], { cwd: repo });
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "timer.py"), "def start(seconds):\n    return seconds\n");
  git("add", ".");
  git("commit", "-q", "-m", "start");
  git("checkout", "-q", "-b", "cancel");
  writeFileSync(
    join(repo, "timer.py"),
    "def start(seconds):\n    return seconds\n\n\ndef cancel(timer):\n    timer.stop()\n",
  );
  const draft = await client.draftPr(await diffAgainstBase(repo));
  assert.ok(draft.title.trim().length > 0, JSON.stringify(draft));
  assert.ok(draft.body.includes("timer.py"), JSON.stringify(draft));
});

test("a canvas suggestion is valid JSON Canvas that keeps every original node", async () => {
  const canvas: Canvas = {
    nodes: [
      { id: "paint", type: "text", text: "Paint the hall", x: 0, y: 0, width: 250, height: 60 },
      { id: "floor", type: "text", text: "New floor in the kitchen", x: 0, y: 200, width: 250, height: 60 },
    ],
    edges: [{ id: "e1", fromNode: "paint", toNode: "floor" }],
  };
  const suggested = await client.canvasSuggest(canvas, 2);
  assert.equal(canvasProblem({ nodes: [...canvas.nodes, ...suggested.nodes], edges: suggested.edges }), undefined);
  const merged = addSuggestions(canvas, suggested);
  assert.equal(canvasProblem(merged), undefined);
  assert.deepEqual(merged.nodes.slice(0, 2), canvas.nodes);
  assert.ok(merged.nodes.length > canvas.nodes.length, JSON.stringify(suggested));
});

test("hints come back anchored inside the file", async () => {
  const text = "fn main() {\n    // TODO: read the config\n    let n: u32 = \"4\".parse().unwrap();\n    println!(\"{n}\");\n}\n";
  const lines = text.split("\n").length - 1;
  const hints = await client.hints({ path: "src/main.rs", text });
  assert.ok(hints.length >= 2, JSON.stringify(hints));
  for (const hint of hints) {
    assert.ok(hint.start_line >= 1 && hint.end_line >= hint.start_line && hint.end_line <= lines, JSON.stringify(hint));
  }
  assert.equal(toDiagnostics(hints, lines).length, hints.length);
  assert.ok(hints.some((h) => h.start_line === 3 && h.severity === "warning"), JSON.stringify(hints));
});

test("one comment for a burst of edits that crosses the threshold once, none for one that does not", async () => {
  const send = async (workspace: string, edits: number) => {
    const comments: string[] = [];
    for (let i = 0; i < edits; i++) {
      const tally = new EditTally();
      tally.add("src/lib.rs", [{ startLine: i, rangeLength: 0, rangeLines: 0, text: `let value_${i} = compute(${i});`.padEnd(50) }]);
      for (const summary of tally.flush(workspace, false)) {
        const answer = await client.commentary(summary);
        if (answer.comment) comments.push(answer.comment);
      }
    }
    return comments;
  };
  const probe = await client.commentary({ workspace: "probe", file: "a.rs", chars_changed: 1, lines_changed: 1 });
  const perEdit = 50;
  const toCross = Math.min(Math.ceil(probe.threshold_chars / perEdit), probe.threshold_lines);
  const quiet = await send("quiet", toCross - 1);
  assert.deepEqual(quiet, [], "a burst below the threshold got a comment");
  const crossing = await send("busy", toCross + 2);
  assert.equal(crossing.length, 1, JSON.stringify(crossing));
  assert.ok(crossing[0].length > 0);
  const spoken = await client.commentary({
    workspace: "aloud",
    file: "a.rs",
    chars_changed: probe.threshold_chars,
    lines_changed: 1,
    speak: true,
  });
  assert.ok(spoken.comment && spoken.spoken, JSON.stringify(spoken));
});

test("a wrong token and a daemon that is down are told apart", async () => {
  const wrong = new HausKiClient({ baseUrl: url, token: "not-the-token" });
  await assert.rejects(wrong.hints({ path: "a.rs", text: "" }), BadToken);
  const down = new HausKiClient({ baseUrl: "http://127.0.0.1:9", token });
  await assert.rejects(down.hints({ path: "a.rs", text: "" }), DaemonDown);
});
