/**
 * The tools, their keys and what each makes. index.html's tool buttons and the help panel list the same; keep them
 * in step.
 */
import type { ElementKind } from "../../protocol/events";

export type Tool = "select" | "pen" | "rect" | "ellipse" | "line" | "arrow" | "text" | "note" | "eraser";

/** Each tool's key (without modifiers). */
export const TOOL_KEYS: Record<string, Tool> = {
  v: "select",
  p: "pen",
  b: "pen",
  r: "rect",
  o: "ellipse",
  l: "line",
  a: "arrow",
  t: "text",
  n: "note",
  e: "eraser",
};

/** Tools that drag out a box. */
export const SHAPE_KINDS: Partial<Record<Tool, Extract<ElementKind, "r" | "e" | "l" | "a">>> = {
  rect: "r",
  ellipse: "e",
  line: "l",
  arrow: "a",
};
