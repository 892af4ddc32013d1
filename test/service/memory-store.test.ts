/**
 * One instance with BOARD_STORE=memory, as `make dev` runs where Redis cannot be installed.
 */
import { ServiceInstance } from "../../local/service-instance";
import { connectClient, editableBoard, eventually, makeLine } from "../support/socket-client";
import { anyString } from "../support/matchers";

let instance: ServiceInstance;

beforeAll(async () => {
  instance = await (await ServiceInstance.create({ name: "memory", env: { BOARD_STORE: "memory" } })).start();
});

afterAll(async () => {
  await instance?.stop();
});

test("serves a board with no Redis at all: ready, elements relayed and kept, presence counted", async () => {
  const [a, b] = await Promise.all([connectClient(instance.url), connectClient(instance.url)]);
  const { board, edit } = editableBoard();
  await a.join({ board, edit });
  await b.join({ board });
  const line = makeLine();

  expect(await a.add(line)).toEqual({ ok: true, s: 1, e: anyString() });
  await eventually("B to get the line and count two", () => b.ops.length === 1 && b.presence.at(-1) === 2);
  const read = await b.join({ board });
  expect(read).toMatchObject({
    ok: true,
    board,
    s: 1,
    you: { id: b.id, name: "Tester", edit: false },
    snapshot: {
      k: { "1": 0 },
      records: [[1, 1, 0, 0, line.id, a.id, "f", 1, ...line.b, line.c, line.sw, "", 0, line.d, 1]],
    },
  });
  expect((await fetch(`${instance.url}/readyz`)).status).toBe(200);
  a.close();
  b.close();
});
