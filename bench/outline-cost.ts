/**
 * What an outline costs to compute (docs/rendering.md): perfect-freehand over the catch-up benchmark's lines
 * (bench/boards.ts: v1's scribbles, which turn back at every other sample) and over smooth handwriting-like lines of
 * the same length, in Node.js on one core. Prints µs per line and outline points per line (best of 5 passes).
 *
 * `npx tsx bench/outline-cost.ts` (OUTLINE_LINES: 100000).
 */
import { loadavg } from "node:os";
import { outlineOf, placeSamples, type InkElement } from "../client/app/freehand";
import { encodeSamples, type Sample } from "../protocol/points";
import { boardElements } from "./boards";

const LINES = Number(process.env.OUTLINE_LINES ?? 100_000);

function asElement(d: string, b: [number, number, number, number], index: number): InkElement {
  return {
    i: `line${index}`,
    s: index,
    z: index,
    t: "f",
    x: b[0],
    y: b[1],
    w: b[2],
    h: b[3],
    c: "#000000",
    sw: 3,
    f: "",
    d,
  };
}

/** Smooth lines: a heading that turns a little each sample, 15 to 40 units a sample (a pen moving steadily). */
function handwriting(count: number): InkElement[] {
  let state = 42;
  const next = () => (state = (state * 16_807) % 2_147_483_647) / 2_147_483_647;
  return Array.from({ length: count }, (_, index) => {
    let [x, y, heading, turn] = [next() * 15_000, next() * 9_000, next() * 2 * Math.PI, 0];
    const samples: Sample[] = [];
    for (let k = 0; k < 16; k += 1) {
      samples.push([Math.round(x), Math.round(y), 0]);
      turn = Math.max(-0.8, Math.min(0.8, turn + (next() - 0.5) * 0.4));
      heading += turn;
      const step = 15 + next() * 25;
      [x, y] = [x + Math.cos(heading) * step, y + Math.sin(heading) * step];
    }
    const xs = samples.map(([sx]) => sx);
    const ys = samples.map(([, sy]) => sy);
    const box: [number, number, number, number] = [
      Math.min(...xs),
      Math.min(...ys),
      Math.max(...xs) - Math.min(...xs),
      Math.max(...ys) - Math.min(...ys),
    ];
    return asElement(encodeSamples(samples), box, index);
  });
}

function measure(name: string, lines: readonly InkElement[]): void {
  const samples = lines.map(placeSamples);
  let best = Infinity;
  let points = 0;
  for (let pass = 0; pass < 5; pass += 1) {
    const started = performance.now();
    points = 0;
    for (const line of samples) points += outlineOf(line, 3).length / 2;
    best = Math.min(best, performance.now() - started);
  }
  console.log(
    `${name}: ${((best * 1000) / lines.length).toFixed(1)} µs a line, ${(points / lines.length).toFixed(0)} outline points a line`,
  );
}

const scribbles = boardElements({ elements: LINES, samples: 16, mixed: false }).map((input, index) =>
  asElement(input.d, input.b, index),
);
console.log(`${LINES} lines of 16 samples, 3 pixels wide; load average ${loadavg()[0]?.toFixed(1)}`);
measure("v1's scribbles (the catch-up board)", scribbles);
measure("handwriting-like lines", handwriting(LINES));
