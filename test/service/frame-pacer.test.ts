/**
 * The frame pacer (service/fanout/frame-pacer.ts): a quiet board's operations go out in the turn they arrive, and so do
 * one writer's that come an interval apart; a busy board's, from any number of sources, go out as one frame per
 * interval, in seq order, one frame per epoch.
 */
import { BURST, FramePacer, firstSeq } from "../../service/fanout/frame-pacer";

const INTERVAL = 33;

interface Frame {
  room: string;
  e: string;
  seqs: number[];
  at: number;
}

function pacer(intervalMs = INTERVAL) {
  const frames: Frame[] = [];
  const pacing = new FramePacer({
    intervalMs,
    send: (room, e, ops) =>
      frames.push({ room, e, seqs: (JSON.parse(ops) as { s: number }[]).map((op) => op.s), at: Date.now() }),
  });
  return { pacing, frames };
}

/** A store call's operations: consecutive seqs from `from`, as the store writes them. */
const ops = (from: number, count = 1) =>
  `[${Array.from({ length: count }, (_, i) => `{"t":"s","s":${from + i},"r":[1,2,"x"]}`).join(",")}]`;

beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
afterEach(() => jest.useRealTimers());

test("a quiet board's operations go out in the turn they arrived, together with the rest of that turn's", () => {
  const { pacing, frames } = pacer();
  pacing.push("b", "e1", ops(1, 2));
  pacing.push("b", "e1", ops(3));
  expect(frames).toEqual([]);
  jest.advanceTimersByTime(0);
  expect(frames).toEqual([{ room: "b", e: "e1", seqs: [1, 2, 3], at: 1_000_000 }]);
});

test("a busy board gets at most one frame per interval (and BURST saved up), whatever number of sources push to it", () => {
  const { pacing, frames } = pacer();
  let seq = 1;
  // Six instances, each storing a batch every 10 ms for two seconds.
  for (let ms = 0; ms < 2_000; ms += 10) {
    for (let source = 0; source < 6; source++) {
      pacing.push("b", "e1", ops(seq, 2));
      seq += 2;
    }
    jest.advanceTimersByTime(10);
  }
  jest.advanceTimersByTime(100);
  // In any second: the frames of one second's budget, and those saved up before it.
  for (const frame of frames) {
    const inSecond = frames.filter((other) => other.at >= frame.at && other.at < frame.at + 1_000).length;
    expect(inSecond).toBeLessThanOrEqual(Math.floor(1_000 / INTERVAL + BURST));
  }
  expect(frames.length).toBeGreaterThanOrEqual(Math.floor(2_000 / INTERVAL));
  // Nothing lost, nothing repeated, in order.
  expect(frames.flatMap((frame) => frame.seqs)).toEqual(Array.from({ length: seq - 1 }, (_, i) => i + 1));
});

test("one writer whose calls come an interval apart, give or take a late timer, is never held back", () => {
  const { pacing, frames } = pacer();
  const arrivals: number[] = [];
  let at = 0;
  for (let seq = 1; seq <= 100; seq++) {
    // A call every interval, some a few milliseconds early after one that was late.
    const step = seq % 3 === 0 ? INTERVAL + 4 : seq % 3 === 1 ? INTERVAL - 3 : INTERVAL;
    jest.advanceTimersByTime(step);
    at += step;
    arrivals.push(1_000_000 + at);
    pacing.push("b", "e1", ops(seq));
    jest.advanceTimersByTime(0);
  }
  expect(frames.map((frame) => frame.at)).toEqual(arrivals);
});

test("batches that arrive out of order go out in seq order, as one valid JSON array", () => {
  const { pacing, frames } = pacer();
  pacing.push("b", "e1", ops(1));
  jest.advanceTimersByTime(0);
  pacing.push("b", "e1", ops(7, 2));
  pacing.push("b", "e1", ops(2, 3));
  pacing.push("b", "e1", ops(5, 2));
  jest.advanceTimersByTime(INTERVAL);
  expect(frames.map((frame) => frame.seqs)).toEqual([[1], [2, 3, 4, 5, 6, 7, 8]]);
});

test("batches of another epoch go in a frame of their own; other boards are paced apart", () => {
  const { pacing, frames } = pacer();
  pacing.push("b", "e1", ops(4));
  pacing.push("b", "e2", ops(1));
  pacing.push("c", "e9", ops(10));
  pacing.push("b", "e1", ops(5));
  jest.advanceTimersByTime(0);
  expect(frames.map(({ room, e, seqs }) => ({ room, e, seqs }))).toEqual([
    { room: "b", e: "e1", seqs: [4, 5] },
    { room: "b", e: "e2", seqs: [1] },
    { room: "c", e: "e9", seqs: [10] },
  ]);
});

test("after an interval with nothing to send, the board is quiet again: its next operations go at once", () => {
  const { pacing, frames } = pacer();
  pacing.push("b", "e1", ops(1));
  jest.advanceTimersByTime(0);
  jest.advanceTimersByTime(INTERVAL + 1);
  pacing.push("b", "e1", ops(2));
  jest.advanceTimersByTime(0);
  expect(frames.map((frame) => frame.at - 1_000_000)).toEqual([0, INTERVAL + 1]);
});

test("with an interval of 0, each turn's operations go out at the end of that turn", () => {
  const { pacing, frames } = pacer(0);
  pacing.push("b", "e1", ops(1));
  pacing.push("b", "e1", ops(2));
  jest.advanceTimersByTime(0);
  pacing.push("b", "e1", ops(3));
  jest.advanceTimersByTime(0);
  expect(frames.map((frame) => frame.seqs)).toEqual([[1, 2], [3]]);
});

test("an empty batch sends nothing; close drops what waits", () => {
  const { pacing, frames } = pacer();
  pacing.push("b", "e1", "[]");
  jest.advanceTimersByTime(100);
  expect(frames).toEqual([]);
  pacing.push("b", "e1", ops(1));
  jest.advanceTimersByTime(0);
  pacing.push("b", "e1", ops(2));
  pacing.close();
  jest.advanceTimersByTime(100);
  expect(frames.map((frame) => frame.seqs)).toEqual([[1]]);
});

test("the first seq is read from every kind of operation the store writes", () => {
  expect(firstSeq(ops(42, 3))).toBe(42);
  expect(firstSeq('[{"t":"v","s":7,"u":"user-1","h":[["s1",1]]}]')).toBe(7);
  expect(firstSeq('[{"t":"c","s":12,"u":"user-1","k":{"3":1}}]')).toBe(12);
  expect(firstSeq('[{"t":"p","s":9,"i":"abcdefghijklmnop","n":2,"v":0,"d":"AAA","b":[1,2,3,4]}]')).toBe(9);
});
