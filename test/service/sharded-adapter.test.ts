/**
 * The board adapter (service/fanout/board-adapter.ts, a ClusterAdapter over Redis 7 sharded pub/sub) with node-redis
 * 6, verified in both modes the service runs it in: one Redis (the Memorystore for Redis stand-in) and a Redis Cluster
 * (the Memorystore for Redis Cluster stand-in: three primaries with a replica each, IAM authentication). Real
 * instances, real Redis.
 *
 * - an instance subscribes to a board's channel only while it has a client on that board, and for LINGER_MS after
 *   (PUBSUB SHARDNUMSUB), and receives none of the bytes of boards it does not serve (its own count of pub/sub bytes
 *   by channel); a client leaving and coming back within the linger costs Redis no SSUBSCRIBE or SUNSUBSCRIBE;
 * - a board's operations travel as the store wrote them, behind a header of a few bytes;
 * - subscriptions come back after a Redis restart, after the failover of the primary that holds the board, and
 *   after the board's slot moves to another primary;
 * - a SIGTERMed instance's subscriptions are gone with it;
 * - a subscription attempted while Redis is away is made once Redis is back (the guard in
 *   service/fanout/subscriptions.ts), where a bare SSUBSCRIBE leaves the board deaf;
 * - IAM access tokens expire and are replaced, and new connections keep authenticating;
 * - the slots the service computes for keys and channels are Redis's own (CLUSTER KEYSLOT).
 */
import pino from "pino";
import { createClient } from "redis";
import { scrape } from "../../local/metrics-reader";
import { waitFor } from "../../local/ports";
import { RedisServer } from "../../local/redis-server";
import { Topology } from "../../local/topology";
import { LINGER_MS } from "../../service/fanout/board-adapter";
import { guardSubscriptions } from "../../service/fanout/subscriptions";
import { createRedisBackend } from "../../service/redis-cluster";
import { keySlot } from "../../service/redis-slot";
import { redisTlsOptions } from "../../service/redis-tls";
import { boardRoom } from "../../service/sockets";
import { connectClient, editableBoard, eventually, makeLine, type TestClient } from "../support/socket-client";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAIN_CHANNEL = "wb#/#";
const channelOf = (board: string) => `${MAIN_CHANNEL}${boardRoom(board)}#`;
/** Each board's edit key, so that the tests' clients may write. */
const editKeys = new Map<string, string>();
const newBoard = () => {
  const { board, edit } = editableBoard();
  editKeys.set(board, edit);
  return board;
};

/**
 * Draws on `from` until `to` is pushed one of the lines through Redis pub/sub (the test client records only what is
 * pushed; it never re-reads). Lines stored while a subscriber is still reconnecting are not pushed to it (clients
 * get them through `head` and a read, docs/architecture.md "Catching up"), so the first few may not arrive; a later
 * one must.
 */
async function deliveredThroughPubSub(from: TestClient, to: TestClient, timeoutMs = 30_000): Promise<void> {
  const sent = new Set<string>();
  let attempts = 0;
  const deadline = Date.now() + timeoutMs;
  while (!to.ops.some((op) => op.t === "a" && sent.has(op.r[4]))) {
    if (Date.now() > deadline)
      throw new Error(`none of ${sent.size} lines (of ${attempts} attempts) reached the other instance's client`);
    attempts += 1;
    const line = makeLine();
    const ack = await from.add(line).catch(() => undefined);
    if (ack?.ok) sent.add(line.id);
    await sleep(250);
  }
}

describe.each(["standalone", "cluster"] as const)("%s Redis", (redis) => {
  let topology: Topology;
  const clients: TestClient[] = [];

  /** Subscribers of a channel, as Redis counts them: summed over every node of a cluster (each counts its own). */
  async function shardNumSub(channel: string): Promise<number> {
    const count = (reply: unknown) => Number((reply as unknown[])[1] ?? 0);
    if (redis === "cluster") {
      const nodes = topology.cluster.nodes.filter((node) => node.process?.running);
      const replies = await Promise.all(
        nodes.map((node) =>
          topology.cluster.command(node.index, ["PUBSUB", "SHARDNUMSUB", channel]).catch(() => [channel, 0]),
        ),
      );
      return replies.reduce((sum: number, reply) => sum + count(reply), 0);
    }
    const config = topology.redis.clientConfig;
    const client = createClient({ url: config.url, password: config.password, socket: redisTlsOptions(config.caCert) });
    await client.connect();
    try {
      return count(await client.sendCommand(["PUBSUB", "SHARDNUMSUB", channel]));
    } finally {
      client.destroy();
    }
  }

  async function joined(instance: number, board: string): Promise<TestClient> {
    const client = await connectClient(topology.instance(instance).url);
    clients.push(client);
    expect(await client.join({ board, edit: editKeys.get(board) })).toMatchObject({ ok: true });
    return client;
  }

  const boardBytes = async (instance: number) =>
    (await scrape(topology.instance(instance).metricsUrl)).sum("whiteboard_redis_pubsub_received_bytes_total", {
      channel: "board",
    });

  beforeAll(async () => {
    // Tokens of 6 s (Google's last an hour): several expire and are replaced while the tests run.
    topology = await Topology.start({
      instances: 2,
      redis,
      cluster: { tokenLifetimeSeconds: 6 },
      env: { REDIS_WAIT_REPLICAS: redis === "cluster" ? "1" : "0" },
    });
  }, 60_000);

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await topology?.stop();
  });

  test("an instance subscribes to a board's channel only while it has a client there (and a linger after), and receives nothing of other boards", async () => {
    const [x, y] = [newBoard(), newBoard()];
    const onX = await joined(0, x);
    await joined(1, y);
    await eventually(
      "each board's channel to have its one subscriber",
      async () => (await shardNumSub(channelOf(x))) === 1 && (await shardNumSub(channelOf(y))) === 1,
    );
    // The main channel (presence, the adapter's requests) has every instance, once each one's subscription is answered
    // (under load the second instance's may still be on its way).
    await eventually("the main channel to have both instances", async () => (await shardNumSub(MAIN_CHANNEL)) === 2);

    const before = await Promise.all([boardBytes(0), boardBytes(1)]);
    for (let i = 0; i < 20; i += 1) expect(await onX.add(makeLine())).toMatchObject({ ok: true });
    await sleep(300);
    const after = await Promise.all([boardBytes(0), boardBytes(1)]);
    // A receives its own publishes on x's channel (the adapter drops them by origin); B, with nobody on x, nothing.
    expect(after[0] - before[0]).toBeGreaterThan(20 * 100);
    expect(after[1] - before[1]).toBe(0);

    onX.close();
    const left = Date.now();
    // The channel stays subscribed for the linger (a client coming back costs Redis nothing), then goes.
    await sleep(LINGER_MS / 2);
    expect(await shardNumSub(channelOf(x))).toBe(1);
    await eventually(
      "x's channel to lose its subscriber after the linger",
      async () => (await shardNumSub(channelOf(x))) === 0,
      LINGER_MS + 5_000,
    );
    expect(Date.now() - left).toBeGreaterThanOrEqual(LINGER_MS);
    expect(await shardNumSub(channelOf(y))).toBe(1);
  }, 30_000);

  test("a line costs the subscriber its stored operation and a 10-byte header plus the epoch: no Socket.IO envelope", async () => {
    const board = newBoard();
    const a = await joined(0, board);
    const b = await joined(1, board);
    await eventually("both instances to subscribe", async () => (await shardNumSub(channelOf(board))) === 2);
    const before = await boardBytes(1);
    // One at a time: each line is its own store call, and so its own message.
    for (let i = 0; i < 20; i += 1) expect(await a.add(makeLine())).toMatchObject({ ok: true });
    await eventually("B's client to have the 20 lines", () => b.ops.length === 20);
    await sleep(200);
    const e = b.epochs[0] as string;
    // The store's JSON, as its client parsed it, written again: the same text (no spaces, the same key order).
    const expected = b.ops.reduce((sum, op) => sum + `o12345678${e}\n[${JSON.stringify(op)}]`.length, 0);
    expect((await boardBytes(1)) - before).toBe(expected);
  });

  test(
    redis === "cluster"
      ? "the primary that holds the board is killed: its replica takes over, and so do the subscriptions"
      : "Redis restarts: the subscriptions come back",
    async () => {
      const board = newBoard();
      const a = await joined(0, board);
      const b = await joined(1, board);
      await eventually("both instances to subscribe", async () => (await shardNumSub(channelOf(board))) === 2);

      if (redis === "cluster") {
        const primary = await topology.cluster.primaryOf(`wb:{${board}}:m`);
        await topology.cluster.killNode(primary);
        await topology.cluster.waitHealthy();
        await topology.cluster.startNode(primary); // back as a replica of the promoted node
      } else {
        await topology.redis.restart(500);
      }
      // Both ways: each instance's subscription is back (one way proves only the receiver's; the sender's instance
      // resubscribes on its own schedule, RESUBSCRIBE_MS).
      await deliveredThroughPubSub(a, b);
      await deliveredThroughPubSub(b, a);
      await eventually(
        "both instances to be subscribed again",
        async () => (await shardNumSub(channelOf(board))) === 2,
      );
    },
    60_000,
  );

  if (redis === "cluster") {
    test("the board's slot moves to another primary while both instances serve it: the subscriptions follow it", async () => {
      const board = newBoard();
      const a = await joined(0, board);
      const b = await joined(1, board);
      await eventually("both instances to subscribe", async () => (await shardNumSub(channelOf(board))) === 2);
      const { from, to } = await topology.cluster.migrateSlot(`wb:{${board}}:m`);
      expect(from).not.toBe(to);
      // Read from the first live node: a replica (the primary the failover test restarted) learns it by gossip.
      await eventually(
        "the first live node to show the slot on its new primary",
        async () => (await topology.cluster.primaryOf(`wb:{${board}}:m`)) === to,
      );
      await deliveredThroughPubSub(a, b);
      await eventually(
        "both subscriptions on the new primary",
        async () => (await shardNumSub(channelOf(board))) === 2,
      );
    }, 60_000);

    test("IAM access tokens expire and are replaced: connections opened after the first token expired still authenticate", async () => {
      const metadata = topology.cluster.metadata;
      if (!metadata) throw new Error("the cluster stand-in runs IAM authentication");
      const board = newBoard();
      const a = await joined(0, board);
      const b = await joined(1, board);
      const first = metadata.tokens[0];
      if (!first) throw new Error("no token was issued");
      await waitFor("the first token to expire", () => Date.now() > first.expiresAt + 200, 15_000);
      // An expired token opens no connection any more (Memorystore's rule, played with ACL passwords)...
      const stale = createClient({
        socket: {
          host: "127.0.0.1",
          port: topology.cluster.port,
          ...redisTlsOptions(topology.cluster.caCertPem),
          reconnectStrategy: false,
        },
        password: first.value,
      });
      stale.on("error", () => undefined);
      await expect(stale.connect()).rejects.toThrow(/WRONGPASS/);
      stale.destroy();
      // ...and every connection the instances hold is dropped: they reconnect, each handshake with a valid token.
      const issuedBefore = metadata.stats.issued;
      for (const node of topology.cluster.nodes.filter((candidate) => candidate.process?.running)) {
        await topology.cluster.command(node.index, ["CLIENT", "KILL", "USER", "default"]);
      }
      await deliveredThroughPubSub(a, b);
      expect(issuedBefore).toBeGreaterThan(1);
    }, 60_000);
  }

  if (redis === "cluster") {
    test("the guard (service/fanout/subscriptions.ts): a cluster client not connected yet (as when Socket.IO makes the adapter, before storage connects): bare subscriptions are refused for good", async () => {
      const logger = pino({ level: "silent" });
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      const backend = createRedisBackend(topology.cluster.clientConfig, logger);
      try {
        const guarded = guardSubscriptions(backend.subscriber, logger, 100);
        await guarded.sSubscribe("{a}guarded", () => undefined, true);
        const bare = await backend.subscriber
          .sSubscribe("{a}bare", () => undefined, true)
          .then(
            () => "subscribed",
            (error: Error) => `refused: ${error.message}`,
          );
        expect(bare).toMatch(/^refused/);
        await backend.connect();
        const subscribers = async (channel: string) => {
          const node = await topology.cluster.primaryOf(channel);
          return Number(((await topology.cluster.command(node, ["PUBSUB", "SHARDNUMSUB", channel])) as unknown[])[1]);
        };
        // `subscribed` settles once the retried subscription is made (what a join waits for before it reads).
        await guarded.subscribed("{a}guarded");
        expect(await subscribers("{a}guarded")).toBe(1);
        expect(await subscribers("{a}bare")).toBe(0);
        expect(unhandled).toEqual([]);
      } finally {
        process.off("unhandledRejection", onUnhandled);
        await backend.close();
      }
    }, 60_000);
  }

  if (redis === "standalone") {
    test("a client that leaves and comes back within the linger costs Redis no SSUBSCRIBE or SUNSUBSCRIBE", async () => {
      const calls = async (command: string) => {
        const info = String(await topology.redis.command(["INFO", "commandstats"]));
        return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
      };
      // The boards of the tests before have ended their linger.
      await sleep(LINGER_MS + 500);
      const board = newBoard();
      const before = { subscribe: await calls("ssubscribe"), unsubscribe: await calls("sunsubscribe") };
      for (let i = 0; i < 5; i += 1) {
        const client = await joined(0, board);
        client.close();
        await sleep(200);
      }
      expect(await calls("ssubscribe")).toBe(before.subscribe + 1);
      expect(await calls("sunsubscribe")).toBe(before.unsubscribe);
      await eventually(
        "the one SUNSUBSCRIBE after the linger",
        async () => (await calls("sunsubscribe")) === before.unsubscribe + 1,
        LINGER_MS + 5_000,
      );
      expect(await calls("ssubscribe")).toBe(before.subscribe + 1);
    }, 30_000);
  }

  if (redis === "cluster") {
    test("the slots the service computes are Redis's (CLUSTER KEYSLOT), for board keys and board channels alike", async () => {
      const names = [
        `wb:{${newBoard()}}:m`,
        channelOf(newBoard()),
        MAIN_CHANNEL,
        "foo{}{bar}",
        "foo{{bar}}zap",
        "{}",
        "é{ü}",
        ...Array.from({ length: 50 }, (_, i) => `key-${i}-${Math.random()}`),
      ];
      for (const name of names) {
        const node = topology.cluster.nodes.find((candidate) => candidate.process?.running)!;
        expect([name, Number(await topology.cluster.command(node.index, ["CLUSTER", "KEYSLOT", name]))]).toEqual([
          name,
          keySlot(name),
        ]);
      }
    });
  }

  test("a SIGTERMed instance's subscriptions go with it", async () => {
    const board = newBoard();
    await joined(0, board);
    await joined(1, board);
    await eventually("both instances to subscribe", async () => (await shardNumSub(channelOf(board))) === 2);
    await topology.stopInstance(1);
    expect(await shardNumSub(channelOf(board))).toBe(1);
    expect(await shardNumSub(MAIN_CHANNEL)).toBe(1);
    await topology.startInstance(1);
  }, 30_000);
});

describe("the adapter's subscriptions, guarded (service/fanout/subscriptions.ts), against bare fire-and-forget calls", () => {
  const logger = pino({ level: "silent" });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  test("one Redis that goes away while a room's SSUBSCRIBE waits for its answer: the guarded room hears its board again, the bare one never does", async () => {
    const redis = await new RedisServer().start();
    const backend = createRedisBackend(redis.clientConfig, logger);
    const connectAdmin = async () => {
      const admin = createClient({
        url: redis.clientConfig.url,
        password: redis.password,
        socket: redisTlsOptions(redis.clientConfig.caCert),
      });
      admin.on("error", () => undefined);
      await admin.connect();
      return admin;
    };
    try {
      await backend.connect();
      const guarded = guardSubscriptions(backend.subscriber, logger, 100);
      const heard = { guarded: 0, bare: 0 };
      // Redis holds every command (CLIENT PAUSE), so both SSUBSCRIBEs are sent and wait; then it stops.
      const pauser = await connectAdmin();
      await pauser.sendCommand(["CLIENT", "PAUSE", "3000", "ALL"]);
      pauser.destroy();
      await guarded.sSubscribe("guarded", () => (heard.guarded += 1), true);
      const bare = backend.subscriber
        .sSubscribe("bare", () => (heard.bare += 1), true)
        .then(
          () => "subscribed",
          (error: Error) => `refused: ${error.message}`,
        );
      await sleep(200);
      await redis.stop();
      expect(await bare).toMatch(/^refused/);
      await redis.start();
      // node-redis registers a channel's listener only once its SSUBSCRIBE succeeds, so it resubscribes only the
      // guarded one (which the guard sent again) when it reconnects.
      const admin = await connectAdmin();
      try {
        await waitFor(
          "the guarded channel's message",
          async () => {
            await admin.sPublish("guarded", "hello");
            return heard.guarded > 0;
          },
          10_000,
        );
        expect(await admin.sPublish("bare", "hello")).toBe(0);
        expect(heard.bare).toBe(0);
      } finally {
        admin.destroy();
      }
      expect(unhandled).toEqual([]);
    } finally {
      await backend.close();
      await redis.destroy();
    }
  }, 30_000);
});
