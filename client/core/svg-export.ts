/**
 * The board as an SVG document: a white page the board's size (in board units, so nothing is rounded) and one
 * path per visible stroke, in stacking order, with the stroke's colour and width and round ends, as drawn on
 * the canvas.
 */
import { BOARD_HEIGHT, BOARD_WIDTH, COLOR_PATTERN } from "../../protocol/events";
import { shapeOf, UNITS_PER_WIDTH, type Drawable } from "./stroke-geometry";

/** The size the document asks to be shown at, CSS pixels; it scales without loss. */
const SHOWN_WIDTH = 1600;

export function boardSvg(strokes: Iterable<Drawable>): string {
  const paths: string[] = [];
  for (const stroke of strokes) {
    const { points } = shapeOf(stroke);
    if (points.length === 0) continue;
    // A single point is drawn as a segment of length zero, which round caps turn into a dot.
    const line = points.length === 2 ? [...points, ...points] : points;
    let d = `M${line[0]} ${line[1]}L`;
    for (let index = 2; index < line.length; index += 2)
      d += `${index > 2 ? " " : ""}${line[index]} ${line[index + 1]}`;
    // Colours were checked by the service; checking again keeps markup out of the file whatever the store held.
    const color = COLOR_PATTERN.test(stroke.c) ? stroke.c : "#000000";
    paths.push(`<path d="${d}" stroke="${color}" stroke-width="${stroke.w * UNITS_PER_WIDTH}"/>`);
  }
  const height = (SHOWN_WIDTH * BOARD_HEIGHT) / BOARD_WIDTH;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${BOARD_WIDTH} ${BOARD_HEIGHT}" width="${SHOWN_WIDTH}" height="${height}">`,
    `<rect width="${BOARD_WIDTH}" height="${BOARD_HEIGHT}" fill="#ffffff"/>`,
    `<g fill="none" stroke-linecap="round" stroke-linejoin="round">`,
    ...paths,
    "</g>",
    "</svg>",
    "",
  ].join("\n");
}
