// The Obsidian plugin's logic without Obsidian: suggestions added marked,
// every original node kept, undone together; answers linked to their notes.

import { test } from "node:test";
import assert from "node:assert/strict";

import type { Canvas } from "../shared/client";
import { answerMarkdown, noteLink } from "../obsidian/src/answer";
import {
  SUGGESTION_COLOR,
  SUGGESTION_LABEL,
  addSuggestions,
  canvasProblem,
  parseCanvas,
  removeSuggestions,
} from "../obsidian/src/canvas";

const original: Canvas = {
  nodes: [
    { id: "a", type: "text", text: "Paint the hall", x: 0, y: 0, width: 250, height: 60 },
    { id: "g", type: "group", label: "House", x: -20, y: -20, width: 600, height: 400 },
  ],
  edges: [],
};

test("suggestions are added marked, and the originals stay as they were", () => {
  const suggested: Canvas = {
    nodes: [
      { id: "hauski-1-0", type: "text", text: "Buy rollers", x: 330, y: 140, width: 250, height: 60 },
      { id: "a", type: "text", text: "clash", x: 0, y: 0, width: 1, height: 1 },
    ],
    edges: [
      { id: "hauski-1-0-edge", fromNode: "a", toNode: "hauski-1-0", fromSide: "right", toSide: "left" },
      { id: "dangling", fromNode: "a", toNode: "nowhere" },
    ],
  };
  const merged = addSuggestions(original, suggested);
  assert.equal(canvasProblem(merged), undefined);
  assert.deepEqual(merged.nodes.slice(0, 2), original.nodes);
  assert.equal(merged.nodes.length, 3);
  assert.equal(merged.nodes[2].color, SUGGESTION_COLOR);
  assert.deepEqual(merged.edges.map((e) => [e.id, e.label]), [["hauski-1-0-edge", SUGGESTION_LABEL]]);
  assert.deepEqual(removeSuggestions(merged), original);
});

test("a canvas file is read whole, and a broken one is named", () => {
  assert.deepEqual(parseCanvas(""), { nodes: [], edges: [] });
  assert.deepEqual(parseCanvas(JSON.stringify(original)), original);
  assert.throws(() => parseCanvas("{nodes:"));
  assert.match(
    canvasProblem({ nodes: [{ id: "a", type: "text", x: 0, y: 0, width: 1 } as never], edges: [] }) ?? "",
    /height/,
  );
});

test("answers link the notes they came from", () => {
  assert.equal(noteLink("notes/plumber.md"), "[[notes/plumber]]");
  const markdown = answerMarkdown("When?", { text: " On Tuesday. ", sources: ["notes/plumber.md", "notes/plumber.md"] });
  assert.equal(markdown, "**When?**\n\nOn Tuesday.\n\nFrom [[notes/plumber]]");
  assert.match(answerMarkdown("Q", { text: "A", sources: [] }), /No note matched/);
});
