/**
 * What a Redis Cluster (Memorystore for Redis Cluster) does under a drawing crowd, done for real on this machine: the
 * cluster stand-in (three primaries with a replica each, TLS, IAM authentication), three service instances with
 * REDIS_WAIT_REPLICAS=1 (as the stacks set it when shards have replicas), the Cloud Run-like front, 24 scripted users
 * drawing on one board. The scenarios are the ones only a cluster has; the instance-level ones (request timeouts,
 * SIGKILL, SIGTERM) run against one Redis in cloud-run-faults.test.ts and against the cluster in
 * test/service/sharded-adapter.test.ts.
 *
 * - the primary that holds the board is SIGKILLed: its replica is promoted (after the cluster's node timeout), the
 *   killed node comes back as a replica;
 * - the board's slot moves to another primary, key by key, while everyone draws.
 *
 * Either way the board's keys answer from a node with another replication id, so the board takes a new epoch and
 * every client learns the new epoch's base and heals what the new history lacks (docs/protocol.md, "Epochs"). Each
 * scenario ends with every user holding the identical board and every acknowledged element (a line, protocol 2) on
 * it.
 */
import { waitFor } from "../../local/ports";
import { readBoard } from "../../local/read-board";
import { Topology } from "../../local/topology";
import { converge, crowdOutcome, expectNothingLost, ScriptedUser } from "../support/scripted-user";
import { editableBoard } from "../support/socket-client";

const USERS = 24;
const DRAW_MS = 8_000;
const FAULT_AT_MS = 2_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Figures {
  scenario: string;
  linesDrawn: number;
  elementsAcked: number;
  lost: number;
  /** Acknowledged elements stored again under another seq by the healing (their first copy was lost). */
  healed: number;
  epochChanged: boolean;
  convergeSeconds: number;
}
const figures: Figures[] = [];

let topology: Topology | undefined;
let users: ScriptedUser[] = [];

beforeAll(async () => {
  topology = await Topology.start({
    instances: 3,
    redis: "cluster",
    env: { REDIS_WAIT_REPLICAS: "1" },
    front: { port: 0 },
  });
}, 90_000);

afterEach(() => {
  for (const user of users.splice(0)) user.close();
});

afterAll(async () => {
  await topology?.stop();
  const rows = figures.map(
    (f) =>
      `| ${f.scenario} | ${f.linesDrawn} | ${f.elementsAcked} | ${f.lost} | ${f.healed} | ${f.epochChanged ? "yes" : "no"} | ${f.convergeSeconds.toFixed(1)} |`,
  );
  console.log(
    [
      "| scenario | lines drawn | elements acked | lost | healed | new epoch | seconds to converge |",
      "|---|---|---|---|---|---|---|",
      ...rows,
    ].join("\n"),
  );
});

/** The keys of a board in Redis: `w2:{board}:…`, one hash slot (docs/store.md). */
const metaKey = (board: string) => `w2:{${board}}:m`;

async function scenario(
  name: string,
  { board, edit }: { board: string; edit: string },
  fault: (running: Topology) => Promise<void>,
): Promise<Figures> {
  const running = topology as Topology;
  users = Array.from({ length: USERS }, () => new ScriptedUser(running.url, board, edit));
  users.forEach((user) => user.startDrawing());
  await sleep(FAULT_AT_MS / 2);
  const before = await readBoard(running.url, board);

  const faultDone = sleep(FAULT_AT_MS / 2).then(() => fault(running));
  await sleep(DRAW_MS - FAULT_AT_MS / 2);
  await faultDone;
  await Promise.all(users.map((user) => user.stopDrawing()));
  const { stored, seconds } = await converge(users, running.url, board, 60_000);
  const after = await readBoard(running.url, board);

  const outcome = crowdOutcome(users, stored);
  const result: Figures = {
    scenario: name,
    linesDrawn: outcome.linesDrawn,
    elementsAcked: outcome.elementsAcked,
    lost: outcome.missing,
    healed: outcome.storedAgain,
    epochChanged: after.e !== before.e,
    convergeSeconds: seconds,
  };
  figures.push(result);
  console.log(`${name}: ${JSON.stringify(result)}`);
  expectNothingLost(users, stored, outcome);
  return result;
}

test("the primary that holds the board is SIGKILLed mid-drawing: its replica is promoted, the board heals, nothing acknowledged is lost", async () => {
  const board = editableBoard();
  const result = await scenario("primary SIGKILLed, replica promoted", board, async (running) => {
    const primary = await running.cluster.primaryOf(metaKey(board.board));
    const replica = await running.cluster.replicaOf(primary);
    await running.cluster.killNode(primary);
    await waitFor(
      "the replica to be promoted",
      async () => (await running.cluster.primaryOf(metaKey(board.board))) === replica,
      15_000,
      100,
    );
    await running.cluster.startNode(primary); // back as a replica of the promoted node
  });
  // The promoted replica has another replication id: the board took a new epoch and its clients re-read it.
  expect(result.epochChanged).toBe(true);
  await topology?.cluster.waitHealthy();
}, 120_000);

test("the board's slot moves to another primary mid-drawing, key by key: writes wait (TRYAGAIN) or follow (ASK, MOVED), nothing is lost", async () => {
  const board = editableBoard();
  const result = await scenario("board's slot migrated while drawing", board, async (running) => {
    const { from, to } = await running.cluster.migrateSlot(metaKey(board.board), 150);
    expect(from).not.toBe(to);
  });
  expect(result.epochChanged).toBe(true);
}, 120_000);
