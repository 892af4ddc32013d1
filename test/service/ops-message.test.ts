/**
 * The compact message that carries a board's operations between instances (service/fanout/ops-message.ts), and the
 * key slot the cluster routes by (service/redis-slot.ts).
 */
import { decodeOps, encodeOps, isFrom, isOpsMessage, newOrigin } from "../../service/fanout/ops-message";
import { keySlot } from "../../service/redis-slot";

const OPS = '[{"t":"s","s":5,"r":[5,0,0,"s1","user-1","#123456",4,"AAAA"]}]';

test("an ops message is the origin, the epoch and the operations as stored, and nothing else", () => {
  const origin = newOrigin();
  const message = encodeOps(origin, "Ab3_-9xYz012", OPS);
  expect(message).toBe(`o${origin}Ab3_-9xYz012\n${OPS}`);
  const bytes = Buffer.from(message);
  expect(isOpsMessage(bytes)).toBe(true);
  expect(isFrom(bytes, origin)).toBe(true);
  expect(isFrom(bytes, newOrigin())).toBe(false);
  expect(decodeOps(bytes)).toEqual({ origin, e: "Ab3_-9xYz012", ops: OPS });
});

test("a ClusterMessage (JSON) is not an ops message; malformed ones decode to nothing", () => {
  expect(isOpsMessage(Buffer.from('{"uid":"x","nsp":"/","type":3}'))).toBe(false);
  const origin = newOrigin();
  expect(decodeOps(Buffer.from(`o${origin}e1`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}e1\n{}`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}e1\n[1`))).toBeUndefined();
  expect(decodeOps(Buffer.from(`o${origin}\n[]`))).toEqual({ origin, e: "", ops: "[]" });
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
