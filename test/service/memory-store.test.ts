/**
 * One instance with BOARD_STORE=memory, as `make dev` runs where Redis cannot be installed.
 */
import { ServiceInstance } from "../../local/service-instance";
import { connectClient, eventually, makeStroke } from "../support/socket-client";

let instance: ServiceInstance;

beforeAll(async () => {
  instance = await (await ServiceInstance.create({ name: "memory", env: { BOARD_STORE: "memory" } })).start();
});

afterAll(async () => {
  await instance?.stop();
});

test("serves a board with no Redis at all: ready, strokes relayed and kept, presence counted", async () => {
  const [a, b] = await Promise.all([connectClient(instance.url), connectClient(instance.url)]);
  await a.join({ board: "solo" });
  await b.join({ board: "solo" });
  const stroke = makeStroke();

  expect(await a.stroke(stroke)).toEqual({ ok: true, seq: 1 });
  await eventually("B to get the stroke and count two", () => b.strokes.length === 1 && b.presence.at(-1) === 2);
  expect(await b.join({ board: "solo" })).toEqual({ ok: true, board: "solo", seq: 1, reset: false, strokes: [{ ...stroke, seq: 1 }] });
  expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
  a.close();
  b.close();
});
