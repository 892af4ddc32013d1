/**
 * What checking costs a receiver, apart from Socket.IO and the network: the frames a receiver gets (one sample
 * each, as the unbatched load sends them) decoded by ./protocol.ts and checked by ./ledger.ts in a loop, in this
 * process, next to what Socket.IO's own parser spends on the same frames; timed in CPU time (a wall clock would count the time other processes held the cores). The live figure
 * (wall time in the frame handlers, per delivery) is in each step's generator figures.
 */
import { Decoder } from "socket.io-parser";
import { DeliveryLedger } from "./ledger";
import { baselineFrame, decodeFrame, FRAME_EVENT, type Frame, type SampleSink } from "./protocol";
import type { ReceiverCost } from "./results";

export function measureReceiverCost(frameCount = 200_000): ReceiverCost {
  const samplesPerLine = 60;
  const lines = Math.ceil(frameCount / samplesPerLine);
  const frames: Frame[] = [];
  for (let line = 0; line < lines; line += 1) {
    for (let index = 0; index < samplesPerLine && frames.length < frameCount; index += 1) {
      frames.push(baselineFrame({ tag: "t", sender: 0, line, n: index, first: index, count: 1 }, 1));
    }
  }
  const run = () => {
    const ledger = new DeliveryLedger(
      { senderBoards: ["b"], linesPerSender: lines, samplesPerLine },
      [{ board: "b" }],
      0,
    );
    const sink: SampleSink = {
      sample: (tag, sender, line, x, y, color, width) =>
        tag === "t" ? ledger.arrive(0, sender, line, x, y, color, width, 1) : ledger.strayed(),
      undecodable: () => ledger.undecodable(),
    };
    const started = process.cpuUsage();
    for (const frame of frames) decodeFrame(frame, sink);
    const used = process.cpuUsage(started);
    return { ms: (used.user + used.system) / 1000, arrived: ledger.arrived };
  };
  // What any Socket.IO client does with such a frame before our handler sees it: its packet decoded from the text.
  const texts = frames.map((frame) => `2${JSON.stringify([FRAME_EVENT, frame])}`);
  const parse = () => {
    const decoder = new Decoder();
    decoder.on("decoded", () => undefined);
    const started = process.cpuUsage();
    for (const text of texts) decoder.add(text);
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000;
  };
  run(); // warm-up: the JIT compiles the path
  parse();
  const { ms, arrived } = run();
  const parseMs = parse();
  const us = (total: number, count: number) => Math.round((total * 1000 * 100) / count) / 100;
  return {
    frames: frames.length,
    samplesPerFrame: arrived / frames.length,
    usPerFrame: us(ms, frames.length),
    usPerSample: us(ms, arrived),
    parseUsPerFrame: us(parseMs, frames.length),
  };
}
