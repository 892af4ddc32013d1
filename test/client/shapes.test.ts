/**
 * The drawing geometry's pure decisions: how samples are placed in a box and outlined, text decoding and wrapping,
 * and where each kind's ink may fall (what the canvas culls by).
 */
import { encodeText } from "../../bench/boards";
import { placeSamples, traceFreehand, type InkElement } from "../../client/app/freehand";
import {
  byStacking,
  contentBounds,
  decodeText,
  inkBounds,
  MEASURE_SIZE,
  outline,
  wrapText,
} from "../../client/app/shapes";
import type { ElementKind } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";

const measure = (text: string) => (text.length * MEASURE_SIZE) / 2;
const element = (t: ElementKind, fields: Partial<InkElement> = {}): InkElement => ({
  i: "e".repeat(16),
  s: 1,
  z: 1,
  t,
  x: 0,
  y: 0,
  w: 0,
  h: 0,
  c: "#000000",
  sw: 2,
  f: "",
  d: "",
  ...fields,
});

describe("freehand samples in their box", () => {
  test("a single sample, or samples on one axis, sit in the middle of the box along it", () => {
    const dot = placeSamples(element("f", { d: encodeSamples([[500, 700, 4]]), w: 0, h: 0 }));
    expect(Array.from(dot.points)).toEqual([0, 0, 4]);
    expect(dot.simulated).toBe(false);
    const flat = placeSamples(
      element("f", {
        d: encodeSamples([
          [0, 10, 0],
          [300, 10, 0],
        ]),
        w: 600,
        h: 40,
      }),
    );
    expect(Array.from(flat.points)).toEqual([0, 20, 0, 600, 20, 0]);
    expect(flat.simulated).toBe(true);
  });

  test("points that do not decode draw nothing (and have no outline)", () => {
    const broken = element("f", { d: "!!", w: 10, h: 10 });
    expect(placeSamples(broken).points.length).toBe(0);
    expect(outline(broken).length).toBe(0);
  });

  test("the screen traces the outline the exports write, and traces it again when the points change", () => {
    const line = element("f", {
      d: encodeSamples([
        [0, 0, 3],
        [400, 300, 9],
        [800, 100, 0],
      ]),
      w: 800,
      h: 300,
      sw: 4,
    });
    const traced = () => {
      const { points, count } = traceFreehand(line);
      return Array.from(points.subarray(0, 2 * count), Math.fround);
    };
    expect(traced()).toEqual(Array.from(outline(line)));
    const before = traced();
    line.d = encodeSamples([
      [0, 0, 3],
      [400, 300, 9],
      [800, 0, 0],
    ]);
    expect(traced()).not.toEqual(before);
    expect(traced()).toEqual(Array.from(outline(line)));
  });
});

describe("text", () => {
  test("d is base64url of UTF-8; what does not decode shows as replacement characters or nothing", () => {
    expect(decodeText(encodeText("Grüße, 世界 👋 -_?"))).toBe("Grüße, 世界 👋 -_?");
    expect(decodeText("_w")).toBe("\uFFFD");
    expect(decodeText("@@@")).toBe("");
  });

  test("wrapping keeps the text's own line breaks, empty lines and spaces between words", () => {
    // 160-unit font: 80 units a character.
    expect(wrapText("one two three\n\nfour  five", 160, 800, measure).map((line) => line.text)).toEqual([
      "one two",
      "three",
      "",
      "four  five",
    ]);
    expect(wrapText("one two", 160, 800, measure)).toEqual([{ text: "one two", width: 560 }]);
    expect(wrapText("", 160, 800, measure)).toEqual([{ text: "", width: 0 }]);
  });

  test("a character is never split, even one outside the basic plane", () => {
    expect(wrapText("👋👋👋", 160, 100, measure).map((line) => line.text)).toEqual(["👋", "👋", "👋"]);
  });
});

describe("ink bounds", () => {
  test("each kind's ink stays within what the canvas culls by", () => {
    const line = element("f", { x: 100, y: 200, w: 300, h: 400, sw: 4 });
    expect(inkBounds(line, measure)).toEqual({ minX: 36, minY: 136, maxX: 464, maxY: 664 });
    expect(inkBounds(element("r", { x: 10, y: 20, w: 30, h: 40 }), measure)).toEqual({
      minX: 10,
      minY: 20,
      maxX: 40,
      maxY: 60,
    });
    // A line from (1000, 1000) up and left, 2 pixels wide: half its width around both ends.
    expect(inkBounds(element("l", { x: 1_000, y: 1_000, w: -500, h: -200 }), measure)).toEqual({
      minX: 484,
      minY: 784,
      maxX: 1_016,
      maxY: 1_016,
    });
    // An arrow's head reaches back from the tip by up to its length.
    const arrow = inkBounds(element("a", { x: 0, y: 0, w: 2_000, h: 0 }), measure);
    expect(arrow.minY).toBeLessThanOrEqual(-160 * Math.sin(Math.PI / 6));
  });

  test("text running past its box's bottom or right edge is within its bounds", () => {
    // 80 units a character: the long word breaks after 12 characters, making 5 lines of 200 units.
    const text = element("t", { x: 0, y: 0, w: 1_000, h: 100, sw: 10, d: encodeText("a\nb\nc\nabcdefghijklmno") });
    expect(inkBounds(text, measure)).toEqual({ minX: 0, minY: 0, maxX: 1_000, maxY: 5 * 1.25 * 160 });
    // A box narrower than one character still shows it.
    const narrow = element("n", { x: 0, y: 0, w: 50, h: 50, sw: 10, d: encodeText("x") });
    expect(inkBounds(narrow, measure)).toEqual({ minX: 0, minY: 0, maxX: 80 + 80, maxY: 80 + 200 });
  });

  test("content bounds are the union of every element's; none for an empty board", () => {
    expect(
      contentBounds(
        [element("r", { x: -10, y: 0, w: 5, h: 5 }), element("e", { x: 100, y: -50, w: 10, h: 10 })],
        measure,
      ),
    ).toEqual({ minX: -10, minY: -50, maxX: 110, maxY: 5 });
    expect(contentBounds([], measure)).toBeUndefined();
  });
});

test("stacking is by z, then by seq", () => {
  const list = [element("r", { z: 9, s: 1 }), element("r", { z: 2, s: 8 }), element("r", { z: 2, s: 3 })].sort(
    byStacking,
  );
  expect(list.map(({ z, s }) => [z, s])).toEqual([
    [2, 3],
    [2, 8],
    [9, 1],
  ]);
});
