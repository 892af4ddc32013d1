/**
 * Lines and their chunks: the eraser and undo act on what a person drew in one go, however many chunks it
 * was sent in, and only on that person's line.
 */
import { chunksOfLines, lineOf } from "../../client/core/lines";
import type { StrokeRecord } from "../../protocol/events";

const record = (i: string, u = "ada-0001", s = 1): StrokeRecord => ({
  s,
  i,
  u,
  c: "#000000",
  w: 2,
  p: "AA",
  g: 1,
  v: 0,
});

test("a chunk's line is its id without the last -<n>", () => {
  expect(lineOf("Zk3-_x9a-12")).toBe("Zk3-_x9a");
  expect(lineOf("abc-1")).toBe("abc");
});

test("chunksOfLines widens hits to every chunk of the lines they belong to, by the same author only", () => {
  const strokes = [record("one-1"), record("two-1"), record("one-2"), record("one-3", "bob-0001"), record("two-2")];
  expect(chunksOfLines(strokes, [record("one-2")])).toEqual(["one-1", "one-2"]);
  expect(chunksOfLines(strokes, [record("two-2"), record("one-3", "bob-0001")])).toEqual(["two-1", "one-3", "two-2"]);
  expect(chunksOfLines(strokes, [])).toEqual([]);
});
