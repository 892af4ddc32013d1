/**
 * The cursor relay's coalescing: at most one message per board per interval, at most `maxPerMessage` positions in
 * it, those waiting longest first, each user's newest position only.
 */
import type { CursorUpdate } from "../../protocol/events";
import { CursorRelay } from "../../service/cursors";

const at = (u: string, x: number): CursorUpdate => ({ u, n: u, c: "#224466", x, y: 0 });

let sent: { board: string; positions: CursorUpdate[] }[];
let relay: CursorRelay;

beforeEach(() => {
  jest.useFakeTimers();
  sent = [];
  relay = new CursorRelay({
    intervalMs: 66,
    maxPerMessage: 3,
    send: (board, positions) => sent.push({ board, positions }),
  });
});

afterEach(() => {
  relay.close();
  jest.useRealTimers();
});

test("moves within one interval make one message per board, with each user's newest position", () => {
  relay.moved("a", at("ann", 1));
  relay.moved("a", at("ann", 2));
  relay.moved("b", at("bob", 5));
  expect(sent).toEqual([]);
  jest.advanceTimersByTime(66);
  expect(sent).toEqual([
    { board: "a", positions: [at("ann", 2)] },
    { board: "b", positions: [at("bob", 5)] },
  ]);
  jest.advanceTimersByTime(1_000);
  expect(sent).toHaveLength(2);
});

test("a crowd moving at once is sent a few at a time, those waiting longest first, a mover keeping their place", () => {
  for (const user of ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]) relay.moved("a", at(user, 1));
  jest.advanceTimersByTime(66);
  expect(sent.map((message) => message.positions.map((p) => p.u))).toEqual([["u1", "u2", "u3"]]);
  // u5 moves again while waiting: still fifth in line, with its new position; u1 moves again: back of the line.
  relay.moved("a", at("u5", 9));
  relay.moved("a", at("u1", 9));
  jest.advanceTimersByTime(66);
  jest.advanceTimersByTime(66);
  expect(sent.map((message) => message.positions.map((p) => `${p.u}@${p.x}`))).toEqual([
    ["u1@1", "u2@1", "u3@1"],
    ["u4@1", "u5@9", "u6@1"],
    ["u7@1", "u1@9"],
  ]);
  jest.advanceTimersByTime(1_000);
  expect(sent).toHaveLength(3);
});
