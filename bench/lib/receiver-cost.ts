/**
 * What checking costs a receiver, apart from Socket.IO and the network: the frames a receiver gets (one sample
 * each, as the unbatched load sends them) decoded by ./protocol.ts and checked by ./ledger.ts in a loop, in this
 * process. The live figure (time in the frame handlers, per delivery) is in each step's generator figures.
 */
import { performance } from "node:perf_hooks";
import { samplePoint, styleOf } from "./drawing";
import { DeliveryLedger } from "./ledger";
import { baselineFrame, decodeFrame, lineKey, type Frame, type SampleSink } from "./protocol";
import type { ReceiverCost } from "./results";

export function measureReceiverCost(frameCount = 200_000): ReceiverCost {
  const samplesPerLine = 60;
  const lines = Math.ceil(frameCount / samplesPerLine);
  const frames: Frame[] = [];
  for (let line = 0; line < lines; line += 1) {
    for (let index = 0; index < samplesPerLine && frames.length < frameCount; index += 1) {
      const point = samplePoint(0, line, index);
      const from = index > 0 ? samplePoint(0, line, index - 1) : undefined;
      frames.push(
        baselineFrame(
          { key: lineKey("t", 0, line), n: index, points: [point], ...(from ? { from } : {}) },
          styleOf(0),
          1,
        ),
      );
    }
  }
  const run = () => {
    const ledger = new DeliveryLedger(
      { senderBoards: ["b"], linesPerSender: lines, samplesPerLine },
      [{ board: "b" }],
      0,
    );
    const sink: SampleSink = {
      sample: (tag, sender, line, x, y, color, width, repeat) =>
        tag === "t" ? ledger.arrive(0, sender, line, x, y, color, width, repeat, 1) : ledger.strayed(),
      undecodable: () => ledger.undecodable(),
    };
    const started = performance.now();
    for (const frame of frames) decodeFrame(frame, sink);
    return { ms: performance.now() - started, arrived: ledger.arrived };
  };
  run(); // warm-up: the JIT compiles the path
  const { ms, arrived } = run();
  return {
    frames: frames.length,
    samplesPerFrame: arrived / frames.length,
    usPerFrame: Math.round((ms * 1000 * 100) / frames.length) / 100,
    usPerSample: Math.round((ms * 1000 * 100) / arrived) / 100,
  };
}
