/**
 * Losses of writes and healing, as a property (docs/store.md, "Epochs and healing"): clients that follow a board by
 * its operations, some offline for a while, the store cut back to a random earlier state of its own (a restart from an
 * older snapshot, or a failover to a replica that lacked the last writes), a newcomer changing the board after the
 * loss, then the old clients coming back in random order, reading with the epoch they hold and healing by the
 * protocol's rule (an element the new history lacks, or holds at a lower version, is sent back with `add` and `h`).
 *
 * Checked, against the memory store (the Redis store answers identically: ./board-store.test.ts):
 * - every client converges to the store: after the heals, each shows exactly what a fresh reader shows;
 * - no change made after the loss is reverted by a heal: what the newcomer changed is as the newcomer left it, and
 *   while a clear it made is in effect, nothing hidden becomes visible;
 * - nothing a client held is lost unless a later change removed it: without a clear after the loss, an element a
 *   healer of a known history showed at the highest version any healer held, and nobody touched after the loss, is
 *   shown.
 */
import fc from "fast-check";
import type { BoardOp, ElementRecord, ElementTuple } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import type { BoardLimits } from "../../service/store/board-store";
import { MemoryBoardStore, type SavedBoards } from "../../service/store/memory-board-store";

const LIMITS: BoardLimits = {
  maxElements: 200,
  maxBytes: 200_000,
  appendReserveBytes: 10_000,
  maxLineBytes: 2_000,
  pageBytes: 500,
  logBytes: 3_000,
  readBytes: 1_000,
  idleTtlSeconds: 600,
  clearIntervalMs: 0,
  undoClearMs: 3_600_000,
};
const BOARD = "healing";

/** A client as the protocol describes one: its epoch, its watermark, the elements and flip counts it holds. */
interface Client {
  user: string;
  e: string;
  after: number;
  elements: Map<string, ElementRecord>;
  k: Map<number, number>;
  online: boolean;
  /** It was sent operations of another epoch than its own: it reads again before anything else. */
  stale: boolean;
  lines: string[];
  /** The clears it saw, for an undo. */
  clears: number[];
}

const kOf = (client: Client, page: number) => client.k.get(page) ?? 0;
const versionOf = (client: Client, rec: ElementRecord) => (rec.o === 1 ? rec.v : rec.v + kOf(client, rec.g));

/** Sets a held element's version as the store does (./memory-board-store.ts, setVersion), for ops that keep its page. */
function setVersion(client: Client, rec: ElementRecord, version: number): void {
  const k = kOf(client, rec.g);
  if (version % 2 === 1) {
    if (rec.o === 0 && k % 2 === 1) rec.v = version - k;
    else [rec.o, rec.v] = [1, version];
  } else [rec.o, rec.v] = [0, version - k];
}

/** Applies one operation; false when the client lacks records it needs (an undo of a clear it did not see). */
function apply(client: Client, op: BoardOp): boolean {
  client.after = op.s;
  switch (op.t) {
    case "a":
      client.elements.set(op.r[4], toRecord(op.r));
      for (const [page, k] of Object.entries(op.k ?? {})) client.k.set(Number(page), k);
      return true;
    case "p": {
      const rec = client.elements.get(op.i);
      if (!rec) return true;
      Object.assign(rec, { d: rec.d + op.d, n: op.n, x: op.b[0], y: op.b[1], w: op.b[2], h: op.b[3], l: op.s });
      setVersion(client, rec, op.v);
      return true;
    }
    case "v":
      for (const [id, version] of op.x) {
        const rec = client.elements.get(id);
        if (!rec) continue;
        rec.l = op.s;
        setVersion(client, rec, version);
      }
      for (const tuple of op.r ?? []) client.elements.set(tuple[4], toRecord(tuple));
      return true;
    case "e":
      for (const [id, version, patch] of op.x) {
        const rec = client.elements.get(id);
        if (!rec) continue;
        Object.assign(rec, patch, { l: op.s });
        setVersion(client, rec, version);
      }
      return true;
    case "c":
      for (const [page, k] of Object.entries(op.k)) client.k.set(Number(page), k);
      client.clears.push(op.s);
      return true;
    case "u": {
      const known = Object.keys(op.k).every((page) => client.k.has(Number(page)));
      for (const [page, k] of Object.entries(op.k)) client.k.set(Number(page), k);
      return known;
    }
  }
}

/** The whole board as a fresh client reads it: every snapshot page. */
async function snapshot(store: MemoryBoardStore) {
  const records: ElementRecord[] = [];
  const k = new Map<number, number>();
  let cursor: number | undefined;
  let e = "";
  let s = 0;
  for (;;) {
    const result = await store.read(BOARD, cursor === undefined ? {} : { e, at: s, cursor });
    if (!("snapshot" in result)) throw new Error("expected a snapshot");
    if (cursor === undefined) ({ e, s } = result);
    records.push(...(JSON.parse(result.snapshot.records) as ElementTuple[]).map(toRecord));
    for (const [page, flips] of Object.entries(result.snapshot.k)) k.set(Number(page), flips);
    if (result.snapshot.next === undefined) return { records, k, e, s };
    cursor = result.snapshot.next;
  }
}

/** Visible elements by id, with what a user sees of them. */
function visible(client: Client): Map<string, string> {
  const shown = new Map<string, string>();
  for (const rec of client.elements.values()) {
    if (versionOf(client, rec) % 2 !== 0) continue;
    const { x, y, w, h, c, f, d, n, u, t, z } = rec;
    shown.set(rec.i, JSON.stringify({ x, y, w, h, c, f, d, n, u, t, z, version: versionOf(client, rec) }));
  }
  return shown;
}

function newClient(user: string): Client {
  return {
    user,
    e: "0",
    after: 0,
    elements: new Map(),
    k: new Map(),
    online: true,
    stale: false,
    lines: [],
    clears: [],
  };
}

class World {
  readonly store: MemoryBoardStore;
  private generationNumber = 0;
  readonly saves: SavedBoards[] = [];
  private idCounter = 0;

  constructor(readonly clients: Client[]) {
    this.store = new MemoryBoardStore(LIMITS, { generation: () => `generation-${this.generationNumber}` });
  }

  /** Delivers what a write stored to every client online in the same epoch, in order; returns it. */
  deliver(e: string, ops: string): BoardOp[] {
    const list = JSON.parse(ops) as BoardOp[];
    for (const client of this.clients) {
      if (client.online && client.e !== e) client.stale = true;
      if (!client.online || client.e !== e) continue;
      for (const op of list) {
        if (op.s !== client.after + 1) continue; // it is behind: it catches up when it reads
        if (!apply(client, op)) client.after = -1; // lacks a clear's records: it re-reads
      }
    }
    this.saves.push(this.store.saved());
    return list;
  }

  /** Reads as the protocol says: the ops after its watermark, or a snapshot (healing first if it held more). */
  async sync(client: Client): Promise<void> {
    client.online = true;
    client.stale = false;
    const answer = await this.store.read(BOARD, { e: client.e, after: Math.max(client.after, 0) });
    if ("ops" in answer && client.after >= 0) {
      client.e = answer.e;
      const complete = (JSON.parse(answer.ops) as BoardOp[]).every((op) => apply(client, op));
      if (complete) return;
    }
    if (answer.base !== undefined && client.after > answer.base) await this.heal(client);
    await this.adopt(client);
  }

  /** Sends back what the new history lacks or holds at a lower version. */
  private async heal(client: Client): Promise<void> {
    const fresh = await snapshot(this.store);
    const held = new Map(fresh.records.map((rec) => [rec.i, rec]));
    for (const rec of client.elements.values()) {
      const there = held.get(rec.i);
      const mine = versionOf(client, rec);
      if (there && mine <= (there.o === 1 ? there.v : there.v + (fresh.k.get(there.g) ?? 0))) continue;
      const written = await this.store.draw(BOARD, [
        {
          kind: "add",
          user: client.user,
          element: {
            ...{ id: rec.i, t: rec.t, b: [rec.x, rec.y, rec.w, rec.h], c: rec.c, sw: rec.sw, f: rec.f, d: rec.d },
            ...{ h: client.e, v: mine, u: rec.u, n: rec.n },
          },
        },
      ]);
      this.deliver(written.e, written.ops);
    }
  }

  /** Takes the board as it is now, then the operations that follow. */
  private async adopt(client: Client): Promise<void> {
    const fresh = await snapshot(this.store);
    Object.assign(client, {
      e: fresh.e,
      after: fresh.s,
      elements: new Map(fresh.records.map((rec) => [rec.i, rec])),
      k: fresh.k,
    });
  }

  /** A write by `client` (which syncs first, as a client does when it comes back); returns what it stored. */
  async write(client: Client, act: Write): Promise<BoardOp[]> {
    if (!client.online || client.stale || client.after < 0) await this.sync(client);
    const ids = [...client.elements.keys()];
    const pick = (n: number) => ids[n % Math.max(ids.length, 1)];
    let written: { e: string; ops: string } | undefined;
    switch (act.kind) {
      case "add": {
        const id = `${client.user}-${++this.idCounter}`.padEnd(16, "0");
        written = await this.store.draw(BOARD, [
          {
            kind: "add",
            user: client.user,
            element: { id, t: "f", b: [0, 0, 9, 9], c: "#000000", sw: 2, f: "", d: encodeSamples([[1, 1, 1]]) },
          },
        ]);
        client.lines.push(id);
        break;
      }
      case "append": {
        const id = client.lines[act.n % Math.max(client.lines.length, 1)];
        const rec = id === undefined ? undefined : client.elements.get(id);
        if (!rec) return [];
        written = await this.store.draw(BOARD, [
          { kind: "append", user: client.user, points: { i: rec.i, n: rec.n + 1, d: "CCC", b: [0, 0, 9, 9 + rec.n] } },
        ]);
        break;
      }
      case "erase":
      case "restore": {
        const id = pick(act.n);
        if (id === undefined) return [];
        written = await this.store.setVisibility(BOARD, client.user, [id], act.kind === "restore");
        break;
      }
      case "edit": {
        const id = pick(act.n);
        if (id === undefined) return [];
        const edited = await this.store.edit(BOARD, client.user, [[id, act.n % 2 ? { x: act.n } : { o: 1 }]]);
        written = edited;
        break;
      }
      case "clear":
        written = await this.store.clear(BOARD, client.user);
        break;
      case "unclear": {
        const of = client.clears.at(-1 - (act.n % 3));
        if (of === undefined) return [];
        written = await this.store.unclear(BOARD, client.user, of);
        break;
      }
    }
    return this.deliver(written.e, written.ops);
  }

  /**
   * The store comes back with what it had `back` saves ago, as another server: its generation changes. What it came
   * back with is its history from then on.
   */
  loss(back: number): void {
    const saved = this.saves[Math.max(0, this.saves.length - 1 - back)];
    if (saved) this.store.restore(saved);
    this.saves.push(this.store.saved());
    this.generationNumber += 1;
  }
}

type Write = { kind: "add" | "append" | "erase" | "restore" | "edit" | "clear" | "unclear"; n: number };
type Step = { kind: "write"; client: number; write: Write } | { kind: "offline"; client: number };

const write: fc.Arbitrary<Write> = fc.record({
  kind: fc.constantFrom<Write["kind"]>(
    "add",
    "add",
    "append",
    "append",
    "erase",
    "restore",
    "edit",
    "clear",
    "unclear",
  ),
  n: fc.nat(50),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("write" as const), client: fc.nat(2), write }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("offline" as const), client: fc.nat(2) }) },
);

test("every healing client converges to the store; no change after a loss is reverted; nothing held is lost unless a later change removed it", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(step, { minLength: 5, maxLength: 40 }),
      fc.nat(30),
      fc.array(write, { maxLength: 6 }),
      fc.array(fc.nat(2), { minLength: 3, maxLength: 3 }),
      fc.boolean(),
      async (before, back, after, order, secondLoss) => {
        const old = ["old-a", "old-b", "old-c"].map((user) => newClient(user.padEnd(16, "0")));
        const world = new World(old);
        for (const client of old) await world.sync(client);
        for (const act of before) {
          const client = old[act.client] as Client;
          if (act.kind === "offline") client.online = false;
          else await world.write(client, act.write);
        }
        world.loss(back);
        if (secondLoss) {
          // A second loss before anyone heals: the first new epoch is known to the chain only if it was written.
          world.loss(0);
        }
        for (const client of old) client.online = false;

        // After the loss, a newcomer changes the board.
        const newcomer = newClient("newcomer".padEnd(16, "0"));
        world.clients.push(newcomer);
        await world.sync(newcomer);
        const touched = new Set<string>();
        let cleared = false;
        const inEffect = new Set<number>();
        for (const act of after) {
          for (const op of await world.write(newcomer, act)) {
            if (op.t === "a") touched.add(op.r[4]);
            if (op.t === "p") touched.add(op.i);
            if (op.t === "v" || op.t === "e") for (const [id] of op.x) touched.add(id);
            if (op.t === "c") inEffect.add(op.s);
            if (op.t === "u") inEffect.delete(op.of);
            if (op.t === "c" || op.t === "u") cleared = true;
          }
        }
        await world.sync(newcomer);
        const afterLoss = visible(newcomer);
        const beforeHeals = await snapshot(world.store);

        // The old clients come back, in random order, each healing by what it held.
        const held = old.map((client) => ({
          e: client.e,
          after: client.after,
          versions: new Map([...client.elements.values()].map((rec) => [rec.i, versionOf(client, rec)])),
        }));
        const knownBases = new Map<string, number>();
        for (const client of old) {
          const answer = await world.store.read(BOARD, { e: client.e, after: 0 });
          if (answer.base !== undefined && answer.base > 0) knownBases.set(client.e, answer.base);
        }
        for (const index of new Set(order)) await world.sync(old[index] as Client);
        // Then every client reads what it missed; one sent another epoch's operations meanwhile reads again.
        for (const client of [...old, newcomer]) await world.sync(client);
        for (const client of [...old, newcomer]) if (client.stale) await world.sync(client);

        // Everyone converges to the store.
        const fresh = await snapshot(world.store);
        const reader: Client = {
          ...newClient("reader"),
          elements: new Map(fresh.records.map((r) => [r.i, r])),
          k: fresh.k,
        };
        const truth = visible(reader);
        for (const client of [...old, newcomer]) expect(visible(client)).toEqual(truth);

        // Nothing the newcomer changed is reverted; while a clear it made is in effect, nothing hidden shows again.
        for (const id of touched) expect(truth.get(id)).toEqual(afterLoss.get(id));
        if (inEffect.size > 0) for (const id of truth.keys()) expect(afterLoss.has(id)).toBe(true);

        // Without a clear after the loss: an element whose highest version among the healers of known histories is
        // a shown one, untouched after the loss, is shown.
        if (!cleared) {
          const best = new Map<string, number>();
          for (const { e, after: watermark, versions } of held) {
            const base = knownBases.get(e);
            if (base === undefined || watermark <= base) continue;
            for (const [id, version] of versions) best.set(id, Math.max(version, best.get(id) ?? -1));
          }
          const stored = new Map(
            beforeHeals.records.map((rec): [string, number] => [
              rec.i,
              rec.o === 1 ? rec.v : rec.v + (beforeHeals.k.get(rec.g) ?? 0),
            ]),
          );
          for (const [id, version] of best) {
            if (version % 2 === 0 && !touched.has(id) && version >= (stored.get(id) ?? -1))
              expect(truth.has(id)).toBe(true);
          }
        }
      },
    ),
    { numRuns: Number(process.env.HEALING_RUNS ?? 300) },
  );
}, 120_000);
