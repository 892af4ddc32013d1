import { Decoder, Encoder } from "socket.io-parser";
import { RawJson, rawJsonParser } from "../../service/raw-json";

function roundTrip(packet: { type: number; nsp: string; id?: number; data: unknown }): unknown {
  const decoder = new Decoder();
  let decoded: unknown;
  decoder.on("decoded", (packet: { data?: unknown }) => (decoded = packet.data));
  for (const part of new rawJsonParser.Encoder().encode(packet)) decoder.add(part);
  return decoded;
}

test("a RawJson value reaches a standard decoder as the value its text describes", () => {
  const strokes = [{ seq: 1, id: "a", points: [[0.5, 0.25]], color: "#000000", width: 2 }];
  const data = [{ ok: true, board: "b", seq: 1, reset: false, strokes: new RawJson(JSON.stringify(strokes)) }];
  expect(roundTrip({ type: 3, nsp: "/", id: 7, data })).toEqual([
    { ok: true, board: "b", seq: 1, reset: false, strokes },
  ]);
});

test("several RawJson values and ordinary strings that look like the placeholder are kept apart", () => {
  const data = [{ a: new RawJson("[1,2]"), b: "\u0000raw-json:0", c: new RawJson('{"x":"\\u0000"}') }];
  expect(roundTrip({ type: 3, nsp: "/", id: 1, data })).toEqual([
    { a: [1, 2], b: "\u0000raw-json:0", c: { x: "\u0000" } },
  ]);
});

test("packets without RawJson encode exactly as the default encoder does", () => {
  const packet = { type: 2, nsp: "/", data: ["stroke", { id: "x", points: [[0, 1]] }] };
  expect(new rawJsonParser.Encoder().encode(packet)).toEqual(new Encoder().encode(packet));
});
