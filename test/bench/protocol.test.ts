import { Outbox } from "../../client/core/outbox";
import { MemoryPendingStore } from "../../client/core/pending-store";
import { ELEMENT_ID_PATTERN, ID_PATTERN, MAX_LINE_BYTES, type BoardOp } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { indexOfX, lineBox, samplePoint, styleOf, type Point } from "../../bench/lib/drawing";
import {
  baselineFrame,
  boardId,
  decodeFrame,
  lineKey,
  type Frame,
  type Piece,
  type SampleSink,
} from "../../bench/lib/protocol";

interface Seen {
  tag: string;
  sender: number;
  line: number;
  point: Point;
  color: string;
  width: number;
}

function collect(frame: Frame): { samples: Seen[]; undecodable: number } {
  const samples: Seen[] = [];
  let undecodable = 0;
  const sink: SampleSink = {
    sample: (tag, sender, line, x, y, color, width) => samples.push({ tag, sender, line, point: [x, y], color, width }),
    undecodable: () => (undecodable += 1),
  };
  decodeFrame(frame, sink);
  return { samples, undecodable };
}

const piece = (overrides: Partial<Piece>): Piece => ({
  tag: "t",
  sender: 0,
  line: 0,
  n: 0,
  first: 0,
  count: 1,
  ...overrides,
});
const onlyOp = (frame: Frame): BoardOp => frame.ops[0] as BoardOp;
function addOf(frame: Frame): Extract<BoardOp, { t: "a" }> {
  const op = onlyOp(frame);
  if (op.t !== "a") throw new Error(`expected an add, got ${op.t}`);
  return op;
}
function appendOf(frame: Frame): Extract<BoardOp, { t: "p" }> {
  const op = onlyOp(frame);
  if (op.t !== "p") throw new Error(`expected an append, got ${op.t}`);
  return op;
}

describe("bench protocol module (version 2)", () => {
  it("names lines and boards as version 2 requires: element ids of 16+ characters, board ids derived from edit keys", () => {
    expect(lineKey("s1x", 3, 7)).toMatch(ELEMENT_ID_PATTERN);
    expect(lineKey("s1abcdefghijklm", 35, 1_000)).toMatch(ELEMENT_ID_PATTERN);
    expect(boardId("bench")).toMatch(ID_PATTERN);
    expect(boardId("bench")).toHaveLength(22);
    expect(boardId("bench")).not.toBe(boardId("frames"));
  });

  it("decodes a line's add into its first samples, with the line's identity, colour and width", () => {
    const frame = baselineFrame(piece({ tag: "s1x", sender: 3, line: 7, count: 3 }), 5);
    expect(onlyOp(frame).t).toBe("a");
    expect(collect(frame)).toEqual({
      samples: [0, 1, 2].map((index) => ({
        tag: "s1x",
        sender: 3,
        line: 7,
        point: samplePoint(3, 7, index),
        ...styleOf(3),
      })),
      undecodable: 0,
    });
  });

  it("decodes an append from the sample drawn before it, with its sender's colour and width, and no point twice", () => {
    const frame = baselineFrame(piece({ tag: "t", sender: 40, line: 12, n: 5, first: 5, count: 2 }), 1);
    const op = onlyOp(frame);
    expect(op).toMatchObject({ t: "p", n: 5, b: lineBox(40, 12, 6) });
    expect(collect(frame)).toEqual({
      samples: [5, 6].map((index) => ({
        tag: "t",
        sender: 40,
        line: 12,
        point: samplePoint(40, 12, index),
        ...styleOf(40),
      })),
      undecodable: 0,
    });
  });

  it("gets every sample of a line sent one per message exactly once", () => {
    const indices = Array.from({ length: 60 }, (_, index) =>
      collect(baselineFrame(piece({ sender: 2, line: 4, n: index, first: index }), index + 1)).samples.map(
        ({ point }) => indexOfX(point[0]),
      ),
    ).flat();
    expect(indices).toEqual(Array.from({ length: 60 }, (_, index) => index));
  });

  it("reports elements and appends that are not a benchmark line's or not as drawn, and skips other changes", () => {
    const add = addOf(baselineFrame(piece({ count: 2 }), 1));
    const append = appendOf(baselineFrame(piece({ n: 2, first: 2 }), 2));
    const withRecord = (patch: (r: typeof add.r) => void): BoardOp => {
      const r = [...add.r] as typeof add.r;
      patch(r);
      return { ...add, r };
    };
    const { samples, undecodable } = collect({
      e: "x",
      ops: [
        withRecord((r) => (r[4] = "somebody-elses-line")), // not a benchmark line's id
        withRecord((r) => (r[6] = "r")), // a rectangle
        withRecord((r) => (r[11] += 1)), // a box that is not the line's
        withRecord((r) => (r[16] = "!!")), // points that do not decode
        { ...append, b: [append.b[0], append.b[1] + 1, append.b[2], append.b[3]] }, // a box that is not the line's
        { ...append, i: "x" }, // an append of no benchmark line
        { t: "c", s: 9, u: "someone", k: { "0": 1 } },
        { t: "v", s: 10, u: "someone", x: [[lineKey("t", 0, 0), 1]] },
      ],
    });
    expect(samples).toEqual([]);
    expect(undecodable).toBe(6);
  });

  it("decodes an append whose box ends elsewhere into samples that are not what was drawn there", () => {
    const append = appendOf(baselineFrame(piece({ n: 2, first: 2 }), 2));
    const { samples } = collect({ e: "x", ops: [{ ...append, b: lineBox(0, 0, 3) }] });
    expect(samples).toHaveLength(1);
    expect(samples[0]?.point).not.toEqual(samplePoint(0, 0, indexOfX(samples[0]?.point[0] ?? 0)));
  });

  it("reports each sample drawn with pressure (the benchmarks draw without)", () => {
    const add = addOf(baselineFrame(piece({ count: 2 }), 1));
    const r = [...add.r] as typeof add.r;
    const [x, y] = samplePoint(0, 0, 0);
    const [x1, y1] = samplePoint(0, 0, 1);
    r[16] = encodeSamples([
      [x, y, 0],
      [x1, y1, 1],
    ]);
    const { samples, undecodable } = collect({ e: "x", ops: [{ ...add, r }] });
    expect(samples.map(({ point }) => point)).toEqual([[x, y]]);
    expect(undecodable).toBe(1);
  });

  it("reads the browser client's own writes as it sends them: an add, then appends of what was drawn meanwhile", () => {
    const key = lineKey("s", 2, 3);
    const outbox = new Outbox({
      board: "b",
      store: new MemoryPendingStore(),
      pageId: "p",
      maxPointsPerWrite: 200,
      maxLineBytes: MAX_LINE_BYTES,
      newId: () => key,
    });
    const ops: BoardOp[] = [];
    const send = () => {
      const entry = outbox.next(100);
      if (!entry) return;
      const s = ops.length + 1;
      const { write } = entry;
      if (write.kind === "add") {
        const { id, t, b, c, sw, f, d } = write.input;
        ops.push({ t: "a", s, r: [s, 0, 0, 0, id, "user-id-16-chars", t, s, ...b, c, sw, f, 0, d, s] });
      } else if (write.kind === "append") {
        const { i, n, d, b } = write.input;
        ops.push({ t: "p", s, i, n, v: 2 * n, d, b });
      }
    };
    const sample = (index: number) => [...samplePoint(2, 3, index), 0] as const;
    const { color, width } = styleOf(2);
    outbox.begin(sample(0), { c: color, sw: width });
    send();
    for (let index = 1; index < 8; index += 1) {
      outbox.extend([sample(index)]);
      if (index % 3 === 0) send(); // samples drawn meanwhile go together
    }
    outbox.end();
    send();
    expect(ops.map((op) => op.t)).toEqual(["a", "p", "p", "p"]);
    const { samples, undecodable } = collect({ e: "x", ops });
    expect(undecodable).toBe(0);
    expect(samples.map(({ point }) => indexOfX(point[0]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(samples.every((seen) => seen.color === color && seen.width === width && seen.sender === 2)).toBe(true);
  });
});
