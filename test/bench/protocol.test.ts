import { Outbox } from "../../client/core/outbox";
import { indexOfX, samplePoint, styleOf, type Point } from "../../bench/lib/drawing";
import { baselineFrame, decodeFrame, lineKey, type Frame, type SampleSink } from "../../bench/lib/protocol";

interface Seen {
  tag: string;
  sender: number;
  line: number;
  point: Point;
  color: string;
  width: number;
  repeat: boolean;
}

function collect(frame: Frame): { samples: Seen[]; undecodable: number } {
  const samples: Seen[] = [];
  let undecodable = 0;
  const sink: SampleSink = {
    sample: (tag, sender, line, x, y, color, width, repeat) =>
      samples.push({ tag, sender, line, point: [x, y], color, width, repeat }),
    undecodable: () => (undecodable += 1),
  };
  decodeFrame(frame, sink);
  return { samples, undecodable };
}

describe("bench protocol module (version 1)", () => {
  it("decodes the frame of a line's first piece into its samples, with the line's identity", () => {
    const points = [samplePoint(3, 7, 0), samplePoint(3, 7, 1)];
    const { samples } = collect(baselineFrame({ key: lineKey("s1x", 3, 7), n: 0, points }, styleOf(3), 5));
    expect(samples).toEqual(
      points.map((point) => ({ tag: "s1x", sender: 3, line: 7, point, ...styleOf(3), repeat: false })),
    );
  });

  it("marks the point a later piece repeats from the piece before", () => {
    const from = samplePoint(40, 12, 4);
    const point = samplePoint(40, 12, 5);
    const { samples } = collect(
      baselineFrame({ key: lineKey("t", 40, 12), n: 5, points: [point], from }, styleOf(40), 1),
    );
    expect(samples.map(({ point, repeat, sender, line }) => ({ point, repeat, sender, line }))).toEqual([
      { point: from, repeat: true, sender: 40, line: 12 },
      { point, repeat: false, sender: 40, line: 12 },
    ]);
  });

  it("reports strokes that are not a benchmark line's, and skips changes that are not strokes", () => {
    const frame = baselineFrame({ key: lineKey("t", 0, 0), n: 0, points: [samplePoint(0, 0, 0)] }, styleOf(0), 1);
    const stroke = frame.ops[0];
    if (stroke?.t !== "s") throw new Error("expected a stroke");
    const withId = (id: string): Frame["ops"][number] => ({
      ...stroke,
      r: [...stroke.r.slice(0, 3), id, ...stroke.r.slice(4)] as typeof stroke.r,
    });
    const { samples, undecodable } = collect({
      e: "x",
      ops: [
        withId("somebody-else"),
        withId("t_0_0-x"),
        { ...stroke, r: [...stroke.r.slice(0, 7), "!!"] as typeof stroke.r },
        { t: "c", s: 9, u: "someone", k: { "0": 1 } },
      ],
    });
    expect(samples).toEqual([]);
    expect(undecodable).toBe(3);
  });

  it("reads the browser client's own chunks as it numbers them: every sample once, the joining points as repeats", () => {
    const key = lineKey("s", 2, 3);
    const outbox = new Outbox(200, () => key);
    const chunks: Frame["ops"] = [];
    const send = () => {
      const input = outbox.next();
      if (input)
        chunks.push({
          t: "s",
          s: chunks.length + 1,
          r: [chunks.length + 1, 0, 0, input.id, "u", input.c, input.w, input.p],
        });
    };
    outbox.begin(samplePoint(2, 3, 0), styleOf(2));
    send();
    for (let index = 1; index < 8; index += 1) {
      outbox.extend(samplePoint(2, 3, index));
      if (index % 3 === 0) send(); // points drawn meanwhile go together
    }
    outbox.end();
    send();
    const { samples } = collect({ e: "x", ops: chunks });
    const counted = samples.filter((sample) => !sample.repeat).map((sample) => indexOfX(sample.point[0]));
    expect(counted).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(samples.filter((sample) => sample.repeat)).toHaveLength(chunks.length - 1);
  });
});
