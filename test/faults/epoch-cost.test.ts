/**
 * An epoch change that lost nothing: Redis restarted with persistence (the append-only file flushed on a
 * graceful stop, so it comes back with everything) under 30 open pages on 3 boards of about 5 MB each, three instances
 * behind the front. The restart gives every board a new epoch; its history shares the old one's up to the seq the
 * board had when Redis came back, and no page holds more, so each page reads only the operations after its watermark
 * (none) instead of the whole board (protocol 1: 161 MB sent for 30 pages, 3.3 s).
 *
 * Every page is a real session behind a relay of its own that counts the bytes it receives on the wire (WebSocket
 * frames, Socket.IO framing and all). Asserted: each page reads less than 10% of what its first read of the board cost
 * it; no page reads a snapshot (its own count, and the instances' catch-up metric: no snapshot answer, and the log
 * answers' bytes); every page is on the new epoch and still holds the whole board.
 */
import { scrape, type MetricsSnapshot } from "../../local/metrics-reader";
import { waitFor } from "../../local/ports";
import { TcpRelay } from "../../local/tcp-relay";
import { Topology } from "../../local/topology";
import { bigLine, UNTHROTTLED_WRITES } from "../abuse/support";
import { openSession } from "../support/scripted-user";
import { connectClient, editableBoard } from "../support/socket-client";
import type { WhiteboardSession } from "../../client/core/session";

const BOARDS = 3;
const PAGES_PER_BOARD = 10;
const BOARD_BYTES = 5 * 2 ** 20;
const MIB = 2 ** 20;

let topology: Topology | undefined;
const relays: TcpRelay[] = [];
const sessions: WhiteboardSession[] = [];

afterAll(async () => {
  for (const session of sessions) session.close();
  await Promise.all(relays.map((relay) => relay.close()));
  await topology?.stop();
});

/** Adds 1,000-sample lines (about 7 KB each) until the board's records pass `bytes`; returns their bytes. */
async function fill(url: string, board: { board: string; edit: string }, bytes: number): Promise<number> {
  const client = await connectClient(url);
  try {
    const joined = await client.join(board);
    if (!joined.ok) throw new Error(`join refused: ${joined.error}`);
    let total = 0;
    for (let n = 0; total < bytes; n += 50) {
      const lines = Array.from({ length: 50 }, (_, index) => bigLine(n + index));
      const acks = await Promise.all(lines.map((line) => client.add(line)));
      const refused = acks.find((ack) => !ack.ok);
      if (refused) throw new Error(`a line was refused: ${JSON.stringify(refused)}`);
      total += lines.reduce((sum, line) => sum + line.d.length, 0);
    }
    return total;
  } finally {
    client.close();
  }
}

const catchUp = (snapshots: MetricsSnapshot[], name: string, kind: string) =>
  snapshots.reduce((sum, snapshot) => sum + snapshot.sum(name, { kind }), 0);

test("an epoch change that lost nothing: 30 pages on 3 boards of 5 MB each read a few bytes each, and no snapshot", async () => {
  const running = await Topology.start({
    instances: 3,
    front: { port: 0 },
    // Building the boards and 30 first reads from one address: budgets out of the way (they are not what this measures).
    env: {
      ...UNTHROTTLED_WRITES,
      READ_BYTES_PER_ADDRESS_PER_SECOND: String(1024 * MIB),
      READ_BYTES_PER_ADDRESS_BURST: String(1024 * MIB),
    },
  });
  topology = running;
  const boards = Array.from({ length: BOARDS }, () => editableBoard());
  const points = await Promise.all(boards.map((board) => fill(running.url, board, BOARD_BYTES)));

  // Each page behind a relay of its own, counting what it receives; pages of a board spread over the instances.
  const frontPort = Number(new URL(running.url).port);
  for (let index = 0; index < BOARDS * PAGES_PER_BOARD; index += 1) {
    const relay = await TcpRelay.listen({ port: frontPort });
    relays.push(relay);
    sessions.push(openSession(`http://127.0.0.1:${relay.port}`, (boards[index % BOARDS] as { board: string }).board));
  }
  await waitFor("every page to read its board", () => sessions.every((s) => s.status === "connected"), 120_000, 50);
  const firstRead = relays.map((relay) => relay.stats.bytesDown);
  const held = sessions.map((session) => session.board.size);
  const epochs = sessions.map((session) => session.board.epoch);
  for (const [index, session] of sessions.entries()) {
    expect(session.snapshots).toBe(1);
    expect(firstRead[index]).toBeGreaterThan(BOARD_BYTES);
    expect(held[index]).toBeGreaterThan(0);
  }

  const before = await Promise.all(running.instances.map((instance) => scrape(instance.metricsUrl)));
  const readBefore = relays.map((relay) => relay.stats.bytesDown);
  // A graceful restart: Redis flushes its append-only file and comes back with every write.
  await running.redis.restart(1_000);
  const back = Date.now();
  await waitFor(
    "every page to be on the new epoch",
    () => sessions.every((session, index) => session.status === "connected" && session.board.epoch !== epochs[index]),
    30_000,
    20,
  );
  const seconds = (Date.now() - back) / 1000;
  const read = relays.map((relay, index) => relay.stats.bytesDown - (readBefore[index] as number));
  const after = await Promise.all(running.instances.map((instance) => scrape(instance.metricsUrl)));

  const shares = read.map((bytes, index) => bytes / (firstRead[index] as number));
  const figures = {
    boardPointBytes: points,
    firstReadBytes: { min: Math.min(...firstRead), max: Math.max(...firstRead) },
    epochChangeBytes: { min: Math.min(...read), max: Math.max(...read), total: read.reduce((a, b) => a + b, 0) },
    largestShare: Math.max(...shares),
    snapshotAnswers:
      catchUp(after, "whiteboard_catchup_bytes_count", "snapshot") -
      catchUp(before, "whiteboard_catchup_bytes_count", "snapshot"),
    logAnswerBytes:
      catchUp(after, "whiteboard_catchup_bytes_sum", "log") - catchUp(before, "whiteboard_catchup_bytes_sum", "log"),
    secondsToNewEpoch: seconds,
  };
  console.log(`epoch change that lost nothing: ${JSON.stringify(figures)}`);
  // Each page read under 10% of its board (in practice a few hundred bytes: heads, presence, one empty catch-up).
  for (const share of shares) expect(share).toBeLessThan(0.1);
  // No snapshot: not by any page, not answered by any instance.
  for (const session of sessions) expect(session.snapshots).toBe(1);
  expect(figures.snapshotAnswers).toBe(0);
  // Every page went on with the board it held: each noticed the epoch change once, and lost nothing.
  for (const [index, session] of sessions.entries()) {
    expect(session.epochChanges).toBe(1);
    expect(session.board.size).toBe(held[index]);
  }
}, 300_000);
