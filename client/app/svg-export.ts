/**
 * The board as an SVG document, drawn from the same geometry as the canvas (./shapes.ts), so it shows what the
 * screen and the PNG show: a white page around the content, in board units (16 per CSS pixel, shown at 100%), and
 * each visible element in stacking order as one object a vector editor can pick up:
 * - a freehand line: one `<path>`, its outline filled with its colour (every outline point: no level of detail);
 * - a rectangle, ellipse or straight line: `<rect>`, `<ellipse>`, `<line>`; an arrow: a `<g>` of its shaft and head;
 * - text: a `<text>` with a `<tspan>` per wrapped line (wrapped as on the canvas, measured by the page's canvas);
 *   a sticky note: a `<g>` of its paper and its text.
 *
 * Colours, numbers and characters are checked or escaped here whatever the store held, so the file cannot carry
 * markup. Coordinates are written in whole board units (a sixteenth of a CSS pixel).
 */
import { COLOR_PATTERN, UNITS_PER_PIXEL } from "../../protocol/events";
import {
  arrowHead,
  baselineOf,
  byStacking,
  contentBounds,
  FONT_FAMILY,
  insetBox,
  NOTE_FILL,
  outline,
  textLayout,
  toUnits,
  type InkElement,
  type Rect,
  type TextMeasure,
} from "./shapes";

/** Room around the content, board units (16 CSS pixels). */
export const EXPORT_MARGIN = 256;
/** The page of an empty board: 800 × 600 CSS pixels at the origin. */
const EMPTY_PAGE: Rect = { minX: 0, minY: 0, maxX: 12_800, maxY: 9_600 };

/** The part of the board an export shows: the content and its margin. */
export function exportArea(elements: Iterable<InkElement>, measure: TextMeasure): Rect {
  const content = contentBounds(elements, measure);
  if (!content) return EMPTY_PAGE;
  return {
    minX: Math.floor(content.minX - EXPORT_MARGIN),
    minY: Math.floor(content.minY - EXPORT_MARGIN),
    maxX: Math.ceil(content.maxX + EXPORT_MARGIN),
    maxY: Math.ceil(content.maxY + EXPORT_MARGIN),
  };
}

/** A number as SVG writes it: whole board units; anything that is not a finite number becomes 0. */
const num = (value: number): string => {
  const n = Math.round(Number(value));
  return Number.isFinite(n) ? String(n) : "0";
};
const color = (value: string): string => (COLOR_PATTERN.test(value) ? value : "#000000");

/** Characters XML 1.0 cannot hold are dropped; markup characters are escaped. */
function escapeText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
  );
}

function freehandPath(element: InkElement): string | undefined {
  const points = outline(element);
  if (points.length < 2) return undefined;
  let d = `M${num(element.x + (points[0] as number))} ${num(element.y + (points[1] as number))}L`;
  for (let index = 2; index < points.length; index += 2)
    d += `${index > 2 ? " " : ""}${num(element.x + (points[index] as number))} ${num(element.y + (points[index + 1] as number))}`;
  return `<path d="${d}Z" fill="${color(element.c)}"/>`;
}

function textElement(element: InkElement, measure: TextMeasure): string {
  const layout = textLayout(element, measure);
  const lines = layout.lines.map(
    (line, index) =>
      `<tspan x="${num(layout.left)}" y="${num(baselineOf(layout, index))}">${escapeText(line.text)}</tspan>`,
  );
  return `<text xml:space="preserve" font-family="${FONT_FAMILY}" font-size="${num(layout.size)}" fill="${color(element.c)}">${lines.join("")}</text>`;
}

/** One element as SVG markup, or undefined when it draws nothing. */
function elementSvg(element: InkElement, measure: TextMeasure): string | undefined {
  const stroke = `stroke="${color(element.c)}" stroke-width="${num(toUnits(element.sw))}"`;
  const fill = element.f === "" ? "none" : color(element.f);
  switch (element.t) {
    case "f":
      return freehandPath(element);
    case "r": {
      const box = insetBox(element);
      return `<rect x="${num(box.x)}" y="${num(box.y)}" width="${num(box.w)}" height="${num(box.h)}" fill="${fill}" ${stroke}/>`;
    }
    case "e": {
      const box = insetBox(element);
      return `<ellipse cx="${num(box.x + box.w / 2)}" cy="${num(box.y + box.h / 2)}" rx="${num(box.w / 2)}" ry="${num(box.h / 2)}" fill="${fill}" ${stroke}/>`;
    }
    case "l":
      return `<line x1="${num(element.x)}" y1="${num(element.y)}" x2="${num(element.x + element.w)}" y2="${num(element.y + element.h)}" ${stroke} stroke-linecap="round"/>`;
    case "a": {
      const [leftX, leftY, tipX, tipY, rightX, rightY] = arrowHead(element);
      return (
        `<g fill="none" ${stroke} stroke-linecap="round" stroke-linejoin="round">` +
        `<line x1="${num(element.x)}" y1="${num(element.y)}" x2="${num(tipX)}" y2="${num(tipY)}"/>` +
        `<polyline points="${num(leftX)},${num(leftY)} ${num(tipX)},${num(tipY)} ${num(rightX)},${num(rightY)}"/></g>`
      );
    }
    case "t":
      return textElement(element, measure);
    case "n":
      return (
        `<g><rect x="${num(element.x)}" y="${num(element.y)}" width="${num(element.w)}" height="${num(element.h)}" fill="${element.f === "" ? NOTE_FILL : fill}"/>` +
        `${textElement(element, measure)}</g>`
      );
    default:
      return undefined;
  }
}

/** The SVG document of the visible elements (in any order: they are stacked by z, then seq). */
export function boardSvg(elements: Iterable<InkElement>, measure: TextMeasure): string {
  const stacked = [...elements].sort(byStacking);
  const area = exportArea(stacked, measure);
  const [width, height] = [area.maxX - area.minX, area.maxY - area.minY];
  const body: string[] = [];
  for (const element of stacked) {
    const markup = elementSvg(element, measure);
    if (markup) body.push(markup);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${area.minX} ${area.minY} ${width} ${height}" width="${width / UNITS_PER_PIXEL}" height="${height / UNITS_PER_PIXEL}">`,
    `<rect x="${area.minX}" y="${area.minY}" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
