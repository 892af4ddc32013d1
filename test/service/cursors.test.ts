/**
 * The cursor relay's coalescing: at most one message per board per interval to the board's sockets here and one to
 * the other instances, at most `maxPerMessage` positions in each, those waiting longest first, each user's newest
 * position only; other instances' positions are merged into this instance's messages, never sent back out.
 */
import type { CursorUpdate } from "../../protocol/events";
import { CursorRelay } from "../../service/cursors";

const at = (u: string, x: number): CursorUpdate => ({ u, n: u, c: "#224466", x, y: 0 });

let emitted: { room: string; positions: CursorUpdate[] }[];
let published: { room: string; positions: CursorUpdate[] }[];
let relay: CursorRelay;

beforeEach(() => {
  jest.useFakeTimers();
  emitted = [];
  published = [];
  relay = new CursorRelay({
    intervalMs: 66,
    maxPerMessage: 3,
    emit: (room, positions) => emitted.push({ room, positions }),
    publish: (room, positions) => published.push({ room, positions }),
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
  expect(emitted).toEqual([]);
  jest.advanceTimersByTime(66);
  const expected = [
    { room: "a", positions: [at("ann", 2)] },
    { room: "b", positions: [at("bob", 5)] },
  ];
  expect(emitted).toEqual(expected);
  expect(published).toEqual(expected);
  jest.advanceTimersByTime(1_000);
  expect(emitted).toHaveLength(2);
  expect(published).toHaveLength(2);
});

test("a crowd moving at once is sent a few at a time, those waiting longest first, a mover keeping their place", () => {
  for (const user of ["u1", "u2", "u3", "u4", "u5", "u6", "u7"]) relay.moved("a", at(user, 1));
  jest.advanceTimersByTime(66);
  expect(emitted.map((message) => message.positions.map((p) => p.u))).toEqual([["u1", "u2", "u3"]]);
  // u5 moves again while waiting: still fifth in line, with its new position; u1 moves again: back of the line.
  relay.moved("a", at("u5", 9));
  relay.moved("a", at("u1", 9));
  jest.advanceTimersByTime(66);
  jest.advanceTimersByTime(66);
  const lines = [
    ["u1@1", "u2@1", "u3@1"],
    ["u4@1", "u5@9", "u6@1"],
    ["u7@1", "u1@9"],
  ];
  expect(emitted.map((message) => message.positions.map((p) => `${p.u}@${p.x}`))).toEqual(lines);
  expect(published.map((message) => message.positions.map((p) => `${p.u}@${p.x}`))).toEqual(lines);
  jest.advanceTimersByTime(1_000);
  expect(emitted).toHaveLength(3);
});

test("other instances' positions join this instance's in one message per interval, and are not published again", () => {
  // Three other instances send their users' positions within one interval; one user of this instance moves too.
  relay.received("a", [at("x1", 1)]);
  relay.received("a", [at("y1", 1)]);
  relay.moved("a", at("me", 1));
  relay.received("a", [at("x1", 2)]);
  jest.advanceTimersByTime(66);
  expect(emitted).toEqual([{ room: "a", positions: [at("x1", 2), at("y1", 1), at("me", 1)] }]);
  expect(published).toEqual([{ room: "a", positions: [at("me", 1)] }]);
  // Only others moving: written here, nothing published.
  relay.received("a", [at("z1", 1), at("z2", 1), at("z3", 1), at("z4", 1)]);
  jest.advanceTimersByTime(66);
  jest.advanceTimersByTime(66);
  expect(emitted.slice(1).map((message) => message.positions.map((p) => p.u))).toEqual([["z1", "z2", "z3"], ["z4"]]);
  expect(published).toHaveLength(1);
});
