/**
 * The boards the catch-up benchmark draws (bench/catchup.ts), made the same way in Node.js (to write them through
 * the protocol) and in the render harness page (to draw them directly): deterministic, so every run and both paths
 * get the same board.
 *
 * Freehand lines are v1's scribbles (bench/RESULTS.md, v1): each starts at a random place in a 16,000 × 10,000-unit
 * field (1,000 × 625 CSS pixels at 100%) and moves by -20..20 units on each axis per sample, 3 CSS pixels wide, two
 * colours alternating: random handwriting seen whole, and the costliest kind of line for its size (every other sample
 * turns back, so perfect-freehand rounds a corner at nearly every sample). Half report no pressure (a mouse), half a
 * pen's. A mixed board has, of every 100 elements, 70 freehand lines, 10 rectangles, 5 ellipses, 5 straight lines,
 * 4 arrows, 3 texts and 3 sticky notes, shapes 10 to 60 CSS pixels across in the same field, texts and notes of 2 to 7
 * words in 12 to 19-pixel type, in boxes 120 to 220 pixels wide.
 */
import type { ElementInput, ElementKind, ElementRecord } from "../protocol/events";
import { encodeSamples, type Sample } from "../protocol/points";

export interface BoardSpec {
  /** How many elements. */
  elements: number;
  /** Samples per freehand line. */
  samples: number;
  /** Mixed kinds (else freehand lines only). */
  mixed: boolean;
}

export const FIELD = { width: 16_000, height: 10_000 };
const COLORS = ["#202124", "#1a73e8"];
const FILLS = ["", "#fce8e6", "#e6f4ea", "#e8f0fe"];
const WORDS = ["ink", "board", "plan", "idea", "draw", "note", "sketch", "todo", "ship", "review", "café", "über"];
/** Kinds of a mixed board, per 100 elements. */
const MIX: [ElementKind, number][] = [
  ["f", 70],
  ["r", 10],
  ["e", 5],
  ["l", 5],
  ["a", 4],
  ["t", 3],
  ["n", 3],
];

/** A deterministic random sequence (Park-Miller). */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
}

/** Base64url of UTF-8, as text travels in `d`. */
export function encodeText(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function kindAt(index: number, mixed: boolean): ElementKind {
  if (!mixed) return "f";
  let slot = index % 100;
  for (const [kind, count] of MIX) {
    if (slot < count) return kind;
    slot -= count;
  }
  return "f";
}

function scribble(next: () => number, samples: number, pen: boolean): Sample[] {
  let [x, y] = [Math.floor(next() * 15_000) + 500, Math.floor(next() * 9_000) + 500];
  const list: Sample[] = [];
  for (let index = 0; index < samples; index += 1) {
    list.push([x, y, pen ? 1 + Math.floor(next() * 15) : 0]);
    x += Math.floor(next() * 41) - 20;
    y += Math.floor(next() * 41) - 20;
  }
  return list;
}

/** A freehand line's box: its samples' bounding box (the line is drawn where it was sampled). */
function sampleBox(samples: readonly Sample[]): ElementInput["b"] {
  const xs = samples.map(([x]) => x);
  const ys = samples.map(([, y]) => y);
  const [minX, minY] = [Math.min(...xs), Math.min(...ys)];
  return [minX, minY, Math.max(...xs) - minX, Math.max(...ys) - minY];
}

/** The board's elements, oldest first, with ids `e<index>` padded to the protocol's 16 characters. */
export function boardElements(spec: BoardSpec): ElementInput[] {
  const next = random(spec.elements + spec.samples + (spec.mixed ? 7 : 0));
  const elements: ElementInput[] = [];
  for (let index = 0; index < spec.elements; index += 1) {
    const t = kindAt(index, spec.mixed);
    const id = `e${String(index).padStart(15, "0")}`;
    const c = COLORS[index % 2] as string;
    if (t === "f") {
      const samples = scribble(next, spec.samples, index % 4 >= 2);
      elements.push({ id, t, b: sampleBox(samples), c, sw: 3, f: "", d: encodeSamples(samples) });
      continue;
    }
    const [x, y] = [Math.floor(next() * 15_000) + 500, Math.floor(next() * 9_000) + 500];
    const [w, h] = [160 + Math.floor(next() * 800), 160 + Math.floor(next() * 800)];
    const f = FILLS[index % FILLS.length] as string;
    switch (t) {
      case "r":
      case "e":
        elements.push({ id, t, b: [x, y, w, h], c, sw: 2, f, d: "" });
        break;
      case "l":
      case "a":
        elements.push({ id, t, b: [x, y, next() < 0.5 ? -w : w, next() < 0.5 ? -h : h], c, sw: 2, f: "", d: "" });
        break;
      case "t":
      case "n": {
        const words = Array.from(
          { length: 2 + Math.floor(next() * 6) },
          () => WORDS[Math.floor(next() * WORDS.length)],
        );
        const text = encodeText(words.join(" "));
        const sw = t === "t" ? 12 + Math.floor(next() * 8) : 14;
        // Boxes 120 to 220 CSS pixels wide: a few words a line.
        elements.push({
          id,
          t,
          b: [x, y, 1_600 + 2 * w, 800 + 2 * h],
          c: "#202124",
          sw,
          f: t === "n" ? "#fff1a8" : "",
          d: text,
        });
        break;
      }
    }
  }
  return elements;
}

/**
 * Records as the store would hold them, for drawing a board without the service (the render harness, the ink's
 * tests): created in this order (seq = z = position + 1).
 */
export function asRecords(inputs: readonly ElementInput[]): ElementRecord[] {
  return inputs.map((input, index) => ({
    s: index + 1,
    g: 0,
    o: 0,
    v: 0,
    i: input.id,
    u: "harness",
    t: input.t,
    z: index + 1,
    x: input.b[0],
    y: input.b[1],
    w: input.b[2],
    h: input.b[3],
    c: input.c,
    sw: input.sw,
    f: input.f,
    n: 0,
    d: input.d,
    l: index + 1,
  }));
}
