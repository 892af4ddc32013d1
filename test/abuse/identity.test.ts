/**
 * Impersonation (finding L2): who wrote an element, cleared a board or moves a cursor is the id the service derives
 * from the writer's key, never what a client says; a name is free but normalized, so nobody shows an empty or
 * invisible one. Measured on the wire, as another user receives it.
 */
import { PROTOCOL_VERSION } from "../../protocol/events";
import { Topology } from "../../local/topology";
import {
  connectClient,
  editableBoard,
  eventually,
  makeLine,
  makeUser,
  type TestClient,
} from "../support/socket-client";

let topology: Topology;
const clients: TestClient[] = [];
const board = editableBoard();
let victim: TestClient;
let impostor: TestClient;

beforeAll(async () => {
  topology = await Topology.start({ instances: 1, env: { CLEAR_INTERVAL_SECONDS: "0" } });
  victim = await connectClient(topology.instance(0).url, { user: makeUser("Alice") });
  // The impostor takes the victim's name, which is allowed: names are free.
  impostor = await connectClient(topology.instance(0).url, { user: makeUser("Alice") });
  clients.push(victim, impostor);
  for (const client of [victim, impostor]) expect(await client.join(board)).toMatchObject({ ok: true });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await topology?.stop();
});

test("a join cannot claim an id: the user object takes a key, and the answer says which id the key gives", async () => {
  const claimed = { ...makeUser("Alice"), id: victim.id };
  expect(await impostor.join({ ...board, user: claimed })).toMatchObject({ ok: false, code: "invalid" });
  const answer = await impostor.join(board);
  expect(answer).toMatchObject({ ok: true, you: { id: impostor.id, name: "Alice", edit: true } });
  expect(impostor.id).not.toBe(victim.id);
});

test("elements, clears and cursors carry the writer's derived id, whatever the writer sends", async () => {
  const opsBefore = victim.ops.length;
  const line = makeLine();
  expect(await impostor.add(line)).toMatchObject({ ok: true });
  // A healing add may carry an author; from a history the board does not know, it is the healer's own id.
  const healed = makeLine({ h: "made-up-epoch", v: 0, u: victim.id });
  expect(await impostor.add(healed)).toMatchObject({ ok: true });
  const cleared = await impostor.clear();
  expect(cleared).toMatchObject({ ok: true });
  expect(await victim.unclear((cleared as { s: number }).s)).toMatchObject({ ok: true });
  for (let i = 0; i < 5; i += 1) {
    impostor.socket.emit("cursor", { x: 100 * i, y: 50 });
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  await eventually("the victim to see the undo", () => victim.ops.slice(opsBefore).some((op) => op.t === "u"));
  await eventually("the victim to see the impostor's cursor", () => victim.cursors.flat().length > 0);
  const seen = victim.ops.slice(opsBefore);
  const authors = seen.flatMap((op) => (op.t === "a" ? [op.r[5]] : op.t === "c" ? [op.u] : []));
  expect(authors).toEqual([impostor.id, impostor.id, impostor.id]);
  const cursors = victim.cursors.flat().filter((cursor) => cursor.n === "Alice");
  expect(new Set(cursors.map((cursor) => cursor.u))).toEqual(new Set([impostor.id]));
});

test("nobody can draw on someone else's line", async () => {
  const line = makeLine();
  expect(await victim.add(line)).toMatchObject({ ok: true });
  expect(await impostor.append({ i: line.id, n: 1, d: "CCC", b: line.b })).toMatchObject({
    ok: false,
    code: "forbidden",
  });
});

test.each<[string, string, string | undefined]>([
  ["forty Hangul fillers", "\u3164".repeat(40), undefined],
  ["blanks and format characters only", " \u200b\u200d\u2060\u00ad ", undefined],
  ["a line separator inside", "Al\u2028ice", "Al ice"],
  ["a pile of combining marks", `A${"\u0301".repeat(30)}lice`, "A\u0301\u0301lice".normalize("NFC")],
  ["a right-to-left override", "\u202eecilA", "ecilA"],
])("a name of %s is refused or normalized before anyone sees it", async (_, name, shown) => {
  const ws = await connectClient(topology.instance(0).url, { user: { ...makeUser(), name } });
  clients.push(ws);
  const answer = await ws.raw("join", { pv: PROTOCOL_VERSION, board: board.board, user: ws.user });
  if (shown === undefined) expect(answer).toMatchObject({ ok: false, code: "invalid" });
  else expect(answer).toMatchObject({ ok: true, you: { name: shown } });
});
