/**
 * The compact messages that carry a board's operations and cursors between instances (service/fanout/messages.ts),
 * and the key slot the cluster routes by (service/redis-slot.ts).
 */
import {
  decodeCursors,
  decodeOps,
  encodeCursors,
  encodeOps,
  isFrom,
  kindOf,
  newOrigin,
} from "../../service/fanout/messages";
import { keySlot } from "../../service/redis-slot";

const OPS = '[{"t":"s","s":5,"r":[5,0,0,"s1","user-1","#123456",4,"AAAA"]}]';

test("an ops message is the origin, the epoch and the operations as stored, and nothing else", () => {
  const origin = newOrigin();
  const message = encodeOps(origin, "Ab3_-9xYz012", OPS);
  expect(message).toBe(`o${origin}Ab3_-9xYz012\n${OPS}`);
  const bytes = Buffer.from(message);
  expect(kindOf(bytes)).toBe("o");
  expect(isFrom(bytes, origin)).toBe(true);
  expect(isFrom(bytes, newOrigin())).toBe(false);
  expect(decodeOps(bytes)).toEqual({ e: "Ab3_-9xYz012", ops: OPS });
  expect(decodeCursors(bytes)).toBeUndefined();
});

test("a cursors message is the origin and the positions", () => {
  const origin = newOrigin();
  const cursors = [{ u: "user-1", n: "Ann", c: "#123456", x: 1, y: 2 }];
  const bytes = Buffer.from(encodeCursors(origin, JSON.stringify(cursors)));
  expect(kindOf(bytes)).toBe("c");
  expect(isFrom(bytes, origin)).toBe(true);
  expect(decodeCursors(bytes)).toEqual(cursors);
  expect(decodeOps(bytes)).toBeUndefined();
  expect(decodeCursors(Buffer.from(`c${origin}{"u":1}`))).toBeUndefined();
  expect(decodeCursors(Buffer.from(`c${origin}[`))).toBeUndefined();
});

test("a ClusterMessage (JSON) is not a compact message; malformed ones decode to nothing", () => {
  expect(kindOf(Buffer.from('{"uid":"x","nsp":"/","type":3}'))).toBeUndefined();
  const origin = newOrigin();
  expect(decodeOps(Buffer.from(`o${origin}e1`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}e1\n{}`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}e1\n[1`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}\n[]`))).toEqual({ e: "", ops: "[]" });
});

test("an epoch with a newline or an origin of another length is refused, not sent garbled", () => {
  expect(() => encodeOps(newOrigin(), "a\nb", OPS)).toThrow(/newline/);
  expect(() => encodeOps("short", "e", OPS)).toThrow(/8 characters/);
});

test("key slots as Redis computes them: CRC16 of the key, or of its hash tag when not empty", () => {
  // CRC16/XMODEM's check value, and slots from Redis's cluster specification.
  expect(keySlot("123456789")).toBe(0x31c3);
  expect(keySlot("foo")).toBe(12182);
  expect(keySlot("{user1000}.following")).toBe(keySlot("user1000"));
  expect(keySlot("foo{{bar}}zap")).toBe(keySlot("{bar"));
  // An empty tag is no tag: the whole key is hashed.
  expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
  expect(keySlot("wb:{board-1}:m")).toBe(keySlot("wb#/#b:{board-1}:::#"));
});
