// HausKI's ideas on an Obsidian canvas (JSON Canvas 1.0): added marked as
// suggestions (a colour on nodes, a label on edges) so they stand out and
// can be taken back together, and every original node and edge kept.

import type { Canvas, CanvasEdge, CanvasNode } from "../../shared/client";

/** Canvas colour "5" (cyan in Obsidian's palette) marks a suggestion. */
export const SUGGESTION_COLOR = "5";
export const SUGGESTION_LABEL = "HausKI suggestion";

/** Parses a `.canvas` file; an empty file is an empty canvas. */
export function parseCanvas(text: string): Canvas {
  if (!text.trim()) return { nodes: [], edges: [] };
  const value = JSON.parse(text) as Partial<Canvas>;
  return { ...value, nodes: value.nodes ?? [], edges: value.edges ?? [] } as Canvas;
}

/** Why `canvas` is not valid JSON Canvas 1.0, if it is not. */
export function canvasProblem(canvas: Canvas): string | undefined {
  const ids = new Set<string>();
  for (const node of canvas.nodes) {
    for (const key of ["x", "y", "width", "height"] as const) {
      if (typeof node[key] !== "number") return `node ${node.id} has no number ${key}`;
    }
    if (typeof node.id !== "string" || typeof node.type !== "string") return "a node lacks its id or type";
    if (ids.has(node.id)) return `two nodes share the id ${node.id}`;
    ids.add(node.id);
  }
  for (const edge of canvas.edges) {
    if (!ids.has(edge.fromNode) || !ids.has(edge.toNode)) return `edge ${edge.id} joins a node that is not there`;
  }
  return undefined;
}

/** `canvas` with `suggested` added, marked; ids that clash are left out. */
export function addSuggestions(canvas: Canvas, suggested: Canvas): Canvas {
  const taken = new Set([...canvas.nodes.map((n) => n.id), ...canvas.edges.map((e) => e.id)]);
  const nodes: CanvasNode[] = suggested.nodes
    .filter((n) => !taken.has(n.id))
    .map((n) => ({ ...n, color: SUGGESTION_COLOR }));
  const known = new Set([...canvas.nodes, ...nodes].map((n) => n.id));
  const edges: CanvasEdge[] = suggested.edges
    .filter((e) => !taken.has(e.id) && known.has(e.fromNode) && known.has(e.toNode))
    .map((e) => ({ ...e, label: SUGGESTION_LABEL, color: SUGGESTION_COLOR }));
  return { ...canvas, nodes: [...canvas.nodes, ...nodes], edges: [...canvas.edges, ...edges] };
}

/** `canvas` without the suggestions still marked as such (the undo). */
export function removeSuggestions(canvas: Canvas): Canvas {
  const suggested = new Set(
    canvas.nodes.filter((n) => n.color === SUGGESTION_COLOR && n.id.startsWith("hauski-")).map((n) => n.id),
  );
  return {
    ...canvas,
    nodes: canvas.nodes.filter((n) => !suggested.has(n.id)),
    edges: canvas.edges.filter(
      (e) => e.label !== SUGGESTION_LABEL && !suggested.has(e.fromNode) && !suggested.has(e.toNode),
    ),
  };
}
