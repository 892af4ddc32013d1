/**
 * What an anonymous client can make Redis keep, measured in Redis: erasing or restoring made-up ids stores nothing
 * (finding C1), so an id erased before it exists cannot hide someone's element when it comes (L3); versions cannot
 * be exhausted (L1); a cleared board stays undoable for its window whatever is written after it (H2).
 */
import { randomBytes } from "node:crypto";
import type { ElementRecord, ElementTuple, SyncAck } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { Topology } from "../../local/topology";
import { boardKeys } from "../../service/store/redis-scripts";
import { connectClient, editableBoard, makeLine, type TestClient } from "../support/socket-client";
import { bigLine, MIB, operatorRedis, sleep } from "./support";
import { anyString } from "../support/matchers";

const UNDO_CLEAR_SECONDS = 3;
const MAX_BOARD_BYTES = 64 * 1024;

let topology: Topology;
const clients: TestClient[] = [];

beforeAll(async () => {
  topology = await Topology.start({
    instances: 1,
    env: {
      CLEAR_INTERVAL_SECONDS: "0",
      UNDO_CLEAR_SECONDS: String(UNDO_CLEAR_SECONDS),
      MAX_BOARD_BYTES: String(MAX_BOARD_BYTES),
    },
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await topology?.stop();
});

/** A thousand fresh element ids, made from one draw of random bytes. */
function freshIds(): string[] {
  const bytes = randomBytes(12_000);
  return Array.from({ length: 1_000 }, (_, i) => bytes.subarray(i * 12, i * 12 + 12).toString("base64url"));
}

async function client(localAddress: string, board?: { board: string; edit?: string }): Promise<TestClient> {
  const connected = await connectClient(topology.instance(0).url, { localAddress });
  clients.push(connected);
  if (board) expect(await connected.join(board)).toMatchObject({ ok: true });
  return connected;
}

/** Every element a fresh client reads (live pages), with its version. */
async function elements(board: string): Promise<(ElementRecord & { version: number })[]> {
  const reader = await client("127.0.9.99");
  const ack: SyncAck = await reader.join({ board });
  reader.close();
  if (!ack.ok || !("snapshot" in ack)) throw new Error("expected a snapshot");
  const { k, records } = ack.snapshot;
  return records.map((tuple: ElementTuple) => {
    const record = toRecord(tuple);
    return { ...record, version: record.o === 1 ? record.v : record.v + (k[String(record.g)] ?? 0) };
  });
}

test("erasing and restoring made-up ids stores nothing: no entry, no byte, no seq (C1)", async () => {
  const board = editableBoard();
  const attacker = await client("127.0.9.1", board);
  const line = makeLine();
  expect(await attacker.add(line)).toEqual({ ok: true, s: 1, e: anyString() });
  const redis = await operatorRedis(topology.redis);
  try {
    const [, , , index, log] = boardKeys(board.board);
    const memory = async () => Number(/^used_memory:(\d+)/m.exec(await redis.info("memory"))?.[1]);
    const before = { memory: await memory(), keys: await redis.dbSize(), index: await redis.hLen(index) };
    // As fast as the service takes them for 4 s: a thousand fresh ids per event, erased or restored.
    let ids = 0;
    let refused = 0;
    const started = performance.now();
    while (performance.now() - started < 4_000) {
      const batch = Array.from({ length: 20 }, freshIds);
      const acks = await Promise.all(
        batch.map((chunk, i) => (i % 2 ? attacker.erase(chunk) : attacker.restore(chunk))),
      );
      acks.forEach((ack, i) => {
        if (ack.ok) ids += (batch[i] as string[]).length;
        else refused += 1;
      });
    }
    const grew = (await memory()) - before.memory;
    console.log(
      `C1: ${ids} made-up ids erased or restored in 4 s, ${refused} events refused; Redis grew ${grew} bytes`,
    );
    expect(ids).toBeGreaterThan(10_000);
    // v1 kept 141 bytes per id (a pending version each). Here: nothing but Redis's own noise (client buffers).
    expect(grew).toBeLessThan(Math.min(MIB / 2, 5 * ids));
    expect(await redis.dbSize()).toBe(before.keys);
    expect(await redis.hLen(index)).toBe(before.index);
    expect(await redis.lLen(log)).toBe(1);
    // The board's seq, read by someone else: the attacker's own event budget may still be spent after its flood.
    const reader = await connectClient(topology.instance(0).url, { localAddress: "127.0.9.2" });
    clients.push(reader);
    expect(await reader.join(board)).toMatchObject({ ok: true, s: 1 });
  } finally {
    await redis.quit();
  }
});

test("an id erased before it exists does not hide the element that comes with it; guessable ids are refused (L3)", async () => {
  const board = editableBoard();
  const [attacker, victim] = [await client("127.0.9.2", board), await client("127.0.9.3", board)];
  // Even knowing the victim's next id (ids are 16 or more random characters, so one cannot), erasing it first...
  const line = makeLine();
  expect(await attacker.erase([line.id])).toEqual({ ok: true, s: 0, e: anyString() });
  expect(await attacker.restore([line.id])).toEqual({ ok: true, s: 0, e: anyString() });
  // ...leaves nothing waiting for it: the victim's line is shown.
  expect(await victim.add(line)).toEqual({ ok: true, s: 1, e: anyString() });
  expect((await elements(board.board)).map(({ i, version }) => [i, version])).toEqual([[line.id, 0]]);
  // v1's chunk ids were `<line>-<n>`, guessable from the first one: ids under 16 characters are refused.
  expect(await victim.add(makeLine({ id: `${line.id.slice(0, 8)}-2` }))).toMatchObject({ ok: false, code: "invalid" });
});

test("versions cannot be exhausted: a healing client's version is capped, and the element stays erasable (L1)", async () => {
  const board = editableBoard();
  const attacker = await client("127.0.9.4", board);
  expect(await attacker.add(makeLine())).toMatchObject({ ok: true });
  // Elements the board lacks, sent as healed at the highest version the protocol allows, again and again.
  const healed: string[] = [];
  for (let round = 0; round < 50; round += 1) {
    const line = makeLine({ h: "made-up-epoch", v: Number.MAX_SAFE_INTEGER - 1, u: attacker.id });
    expect(await attacker.add(line)).toMatchObject({ ok: true });
    healed.push(line.id);
  }
  const highest = Math.max(...(await elements(board.board)).map(({ version }) => version));
  // Each heal may raise the board's highest version by at most 2^20: versions stay far from exhaustion.
  expect(highest).toBeLessThanOrEqual(50 * 2 ** 20);
  expect(await attacker.erase(healed)).toMatchObject({ ok: true });
  expect(await attacker.restore(healed)).toMatchObject({ ok: true });
  const after = (await elements(board.board)).filter(({ i }) => healed.includes(i));
  expect(after.every(({ version }) => version % 2 === 0 && version <= highest + 2)).toBe(true);
});

test("a cleared board stays undoable for UNDO_CLEAR_SECONDS whatever is written after it (H2)", async () => {
  const board = editableBoard();
  // Several addresses fill the board with big lines until it refuses.
  const writers = await Promise.all(
    ["127.0.9.10", "127.0.9.11", "127.0.9.12"].map((address) => client(address, board)),
  );
  const drawn: string[] = [];
  for (let i = 0; ; i += 1) {
    const line = bigLine(i);
    const ack = await (writers[i % writers.length] as TestClient).add(line);
    if (!ack.ok) {
      expect(ack.code).toBe("board_full");
      break;
    }
    drawn.push(line.id);
  }
  const cleaner = writers[0] as TestClient;
  const cleared = await cleaner.clear();
  expect(cleared.ok).toBe(true);
  // Writing on: refused, rather than deleting what the undo needs.
  const refusals = await Promise.all(writers.map((writer) => writer.add(bigLine(99))));
  expect(refusals.map((ack) => !ack.ok && ack.code)).toEqual(["board_full", "board_full", "board_full"]);
  expect(await writers[1]?.unclear((cleared as { s: number }).s)).toMatchObject({ ok: true });
  expect((await elements(board.board)).map(({ i }) => i).sort()).toEqual([...drawn].sort());

  // Once the window is over, the next clear deletes the last one's elements, and the board takes new ones.
  const again = await cleaner.clear();
  await sleep(UNDO_CLEAR_SECONDS * 1_000 + 200);
  expect(await cleaner.clear()).toMatchObject({ ok: true });
  expect(await cleaner.unclear((again as { s: number }).s)).toMatchObject({ ok: false, code: "gone" });
  expect(await writers[2]?.add(bigLine(100))).toMatchObject({ ok: true });
});
