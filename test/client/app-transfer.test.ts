/**
 * Elements outside their board (client/app/transfer.ts): what copy and export write is what paste and import read
 * back, anything else is refused with a reason a person understands, and copies land where they are told.
 */
import { copiesOf, parseTransfer, toTransfer } from "../../client/app/transfer";
import { encodeText } from "../../client/core/text";
import type { ElementRecord } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";

const base = { s: 1, g: 0, o: 0 as const, v: 0, u: "u", z: 1, n: 0, l: 1 };
const elements: ElementRecord[] = [
  {
    ...base,
    i: "a".repeat(16),
    t: "f",
    x: 10,
    y: 20,
    w: 30,
    h: 40,
    c: "#1e1e1e",
    sw: 4,
    f: "",
    d: encodeSamples([
      [0, 0, 7],
      [30, 40, 9],
    ]),
  },
  { ...base, i: "b".repeat(16), t: "a", x: 100, y: 100, w: -50, h: 20, c: "#e03131", sw: 2, f: "", d: "" },
  {
    ...base,
    i: "c".repeat(16),
    t: "n",
    x: -500,
    y: -500,
    w: 3200,
    h: 3200,
    c: "#1e1e1e",
    sw: 18,
    f: "#fff3bf",
    d: encodeText("Hello, wörld ✓"),
  },
];

test("what copy and export write, paste and import read back: kind, box, colours, width, data, in order", () => {
  const parsed = parseTransfer(JSON.stringify(toTransfer(elements)));
  expect(parsed).toEqual(elements.map(({ t, x, y, w, h, c, sw, f, d }) => ({ t, b: [x, y, w, h], c, sw, f, d })));
});

test.each([
  ["not JSON", "it is not a whiteboard file"],
  [JSON.stringify({ elements: [] }), "it is not a whiteboard file"],
  [
    JSON.stringify({ type: "whiteboard/elements", version: 9, elements: [] }),
    "it was made by another version of the whiteboard",
  ],
  [
    JSON.stringify({ type: "whiteboard/elements", version: 1, elements: [{ t: "x" }] }),
    "its element 1 has an unknown kind",
  ],
  [
    JSON.stringify({
      type: "whiteboard/elements",
      version: 1,
      elements: [{ t: "r", b: [0, 0, -5, 5], c: "#000000", sw: 2, f: "", d: "" }],
    }),
    "its element 1 has a negative size",
  ],
  [
    JSON.stringify({
      type: "whiteboard/elements",
      version: 1,
      elements: [{ t: "f", b: [0, 0, 5, 5], c: "#000000", sw: 2, f: "", d: "!!" }],
    }),
    "its element 1 has no valid points",
  ],
  [
    JSON.stringify({
      type: "whiteboard/elements",
      version: 1,
      elements: [{ t: "t", b: [0, 0, 5, 5], c: "red", sw: 20, f: "", d: "" }],
    }),
    "its element 1 has no valid colour",
  ],
])("%s is refused: %s", (text, reason) => {
  expect(parseTransfer(text)).toBe(reason);
});

test("copies are moved by the offset given, in whole units, and keep everything else", () => {
  const [travelling] = toTransfer(elements.slice(1, 2)).elements;
  expect(copiesOf([travelling as never], 10.4, -20.6)).toEqual([
    { t: "a", b: [110, 79, -50, 20], c: "#e03131", sw: 2, f: "", d: "" },
  ]);
});
