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

  expect(await a.stroke(stroke)).toEqual({ ok: true, s: 1 });
  await eventually("B to get the stroke and count two", () => b.ops.length === 1 && b.presence.at(-1) === 2);
  const read = await b.join({ board: "solo" });
  expect(read).toMatchObject({
    ok: true,
    board: "solo",
    s: 1,
    snapshot: { k: { "1": 0 }, records: [[1, 1, 0, stroke.id, a.user.id, stroke.c, stroke.w, stroke.p]] },
  });
  expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
  a.close();
  b.close();
});
