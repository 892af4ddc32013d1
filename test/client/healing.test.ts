/**
 * Sessions against a store that loses writes. Several real WhiteboardSessions on the fake service over the memory
 * store draw, add shapes, erase, restore, edit, clear and undo clears, while the service's work, their connections,
 * reloads and time interleave at random, and the store now and then restarts from an earlier state of itself (a
 * prefix of its history, as Redis comes back from its snapshot or a promoted replica): a new epoch, healed by the
 * pages that knew more, late or at once.
 *
 * Whatever happens: once everyone is connected and quiet, every page holds the store's board exactly, and no heal
 * put back an element over a change made to it after the loss.
 */
import fc from "fast-check";
import { MemoryPendingStore } from "../../client/core/pending-store";
import { WhiteboardSession } from "../../client/core/session";
import type { BoardOp, ElementKind, UserInput } from "../../protocol/events";
import { ELEMENT_KINDS, toRecord } from "../../protocol/events";
import type { SavedBoards } from "../../service/store/memory-board-store";
import { FakeClock } from "./fakes";
import { FakeService, type Link } from "./fake-service";
import { elementInput } from "./store-board";

const USERS: UserInput[] = [
  { key: "ada-key-aaaaaaaaaaaaaaaa", name: "Ada", color: "#112233" },
  { key: "bob-key-bbbbbbbbbbbbbbbb", name: "Bob", color: "#445566" },
];

type Step =
  | { kind: "line"; client: number; length: number }
  | { kind: "shape"; client: number; t: ElementKind }
  | { kind: "visibility"; client: number; pick: number; show: boolean }
  | { kind: "edit"; client: number; pick: number }
  | { kind: "clear"; client: number }
  | { kind: "unclear"; client: number; back: number }
  | { kind: "pump"; picks: number[] }
  | { kind: "heads" }
  | { kind: "tick"; ms: number }
  | { kind: "drop"; client: number }
  | { kind: "connect"; client: number }
  | { kind: "reload"; client: number }
  | { kind: "save" }
  | { kind: "restart"; pick: number };

const CLIENTS = 3;
const client = fc.integer({ min: 0, max: CLIENTS - 1 });
type Weighted = { weight: number; arbitrary: fc.Arbitrary<Step> };
/** Steps that never take an element away on purpose (no erase, no clear) nor forget what a page knew (no reload). */
const keeping: Weighted[] = [
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("line" as const), client, length: fc.integer({ min: 1, max: 6 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("shape" as const),
      client,
      t: fc.constantFrom(...ELEMENT_KINDS.filter((kind) => kind !== "f")),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("edit" as const), client, pick: fc.nat() }) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant("pump" as const), picks: fc.array(fc.nat(), { maxLength: 12 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("heads" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 6_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop" as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("connect" as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("save" as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("restart" as const), pick: fc.nat() }) },
];
/** Everything a page or the world can do. */
const anything: Weighted[] = [
  ...keeping,
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("visibility" as const), client, pick: fc.nat(), show: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clear" as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("unclear" as const), client, back: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reload" as const), client }) },
];

interface Page {
  session: WhiteboardSession;
  link: Link;
  store: MemoryPendingStore;
}

class World {
  readonly service = new FakeService();
  readonly clock = new FakeClock();
  readonly pages: Page[];
  /** States of the store the current history has passed through: a restart goes back to one of them. */
  private saves: SavedBoards[] = [];
  private shapes = 0;
  /** Elements whose add was acknowledged to the page that made it. */
  readonly acked = new Set<string>();
  /** Elements sent back by healing pages. */
  restored = 0;

  constructor() {
    this.pages = Array.from({ length: CLIENTS }, (_, index) => this.open(index, new MemoryPendingStore()));
    this.saves = [this.service.save()];
  }

  private open(index: number, store: MemoryPendingStore): Page {
    const link = this.service.transport();
    // Clients 0 and 2 are the same user in two tabs; client 1 is someone else.
    const user = USERS[index % 2] as UserInput;
    const session = new WhiteboardSession(
      {
        board: this.service.boardId,
        edit: this.service.editKey,
        user,
        transport: link,
        clock: this.clock,
        pendingStore: store,
        gapGraceMs: 500,
      },
      {
        onAcked: (id) => this.acked.add(id),
        onRecovered: ({ restored }) => (this.restored += restored),
      },
    );
    link.connect();
    return { session, link, store };
  }

  async run(item: Step): Promise<void> {
    const page = "client" in item ? (this.pages[item.client] as Page) : undefined;
    const session = page?.session;
    switch (item.kind) {
      case "line": {
        const y = (this.shapes += 1) * 10;
        session?.begin([0, y, 4], { c: "#000000", sw: 2 });
        for (let x = 1; x <= item.length; x += 1) session?.extend([x * 10, y + x, 4]);
        session?.end();
        return;
      }
      case "shape": {
        const { id: _id, ...element } = elementInput((this.shapes += 1), item.t);
        session?.create([{ ...element, t: item.t as Exclude<ElementKind, "f"> }]);
        return;
      }
      case "visibility": {
        const candidates = item.show ? [...(session?.board.records() ?? [])] : (session?.elements() ?? []);
        const target = candidates[item.pick % Math.max(1, candidates.length)];
        if (target) session?.[item.show ? "restore" : "erase"]([target.i]);
        return;
      }
      case "edit": {
        const shown = session?.elements() ?? [];
        const target = shown[item.pick % Math.max(1, shown.length)];
        if (target)
          session?.edit([[target.i, item.pick % 3 === 0 ? { o: 1 } : { x: item.pick % 1_000, c: "#123456" }]]);
        return;
      }
      case "clear":
        void session?.clear();
        return;
      case "unclear": {
        const clears = this.service.history.filter((op) => op.t === "c");
        const target = clears[clears.length - 1 - item.back];
        if (target) void session?.unclear(target.s);
        return;
      }
      case "pump":
        for (const pick of item.picks) {
          const steps = this.service.steps();
          if (steps.length === 0) break;
          await (steps[pick % steps.length] as () => Promise<void>)();
        }
        return;
      case "heads":
        return this.service.heads();
      case "tick":
        this.clock.advance(item.ms);
        return;
      case "drop":
        page?.link.drop();
        return;
      case "connect":
        page?.link.connect();
        return;
      case "reload":
        if (!page) return;
        page.session.close();
        this.pages[item.client] = this.open(item.client, page.store);
        await settle();
        return;
      case "save":
        this.saves.push(this.service.save());
        return;
      case "restart": {
        const saved = this.saves[item.pick % this.saves.length] as SavedBoards;
        this.service.restart(saved);
        // Only states of the new history can be gone back to from now on.
        this.saves = [saved];
        return;
      }
    }
  }

  /** Everyone connected, every answer and broadcast delivered, every retry made, until nothing is left to do. */
  async quiesce(): Promise<void> {
    for (let round = 0; round < 60; round += 1) {
      for (const page of this.pages) page.link.connect();
      await this.service.heads();
      await this.service.drain();
      await settle();
      const quiet = this.pages.every(
        ({ session }) =>
          session.status === "connected" && session.pendingWrites === 0 && !session.board.hasGap && !session.drawing,
      );
      if (quiet && this.service.steps().length === 0 && round > 2) return;
      this.clock.advance(6_000);
    }
    throw new Error(
      `not quiet: ${this.pages.map(({ session }) => `${session.status}/${session.pendingWrites}`).join(",")}`,
    );
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("every page converges to the store, and no heal reverts a change made after the loss", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(...anything), { minLength: 5, maxLength: 50 }), async (steps) => {
      const world = new World();
      for (const item of steps) await world.run(item);
      await world.quiesce();

      const truth = await world.service.board.truth();
      for (const { session } of world.pages) {
        expect(session.board.epoch).toBe(world.service.epoch());
        expect(session.board.elements().map((record) => record.i)).toEqual(truth.visible);
        for (const [id, record] of truth.records) expect(session.board.get(id)).toEqual(record);
        // Nothing left over the board: what the page shows is the store's board.
        expect(session.elements()).toEqual(session.board.elements());
      }
      expectNoRevert(world.service.log(), world.service.bases());
    }),
    { numRuns: 150 },
  );
}, 300_000);

test("with nothing erased, cleared or forgotten, every element acknowledged to its author survives any loss", async () => {
  let healed = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(...keeping), { minLength: 5, maxLength: 50 }), async (steps) => {
      const world = new World();
      for (const item of steps) await world.run(item);
      await world.quiesce();
      const { visible } = await world.service.board.truth();
      for (const id of world.acked) expect(visible).toContain(id);
      healed += world.restored;
    }),
    { numRuns: 150 },
  );
  // The runs did lose elements that pages sent back (or this test would prove nothing about healing).
  expect(healed).toBeGreaterThan(20);
}, 300_000);

/**
 * A heal that puts back an element the board holds (an `a` operation whose record is older than the operation) must
 * not come after a change to that element made in the same history after the last loss before it.
 */
function expectNoRevert(log: readonly BoardOp[], bases: readonly number[]): void {
  const touched = (op: BoardOp, id: string): boolean =>
    (op.t === "a" && op.r[4] === id) ||
    (op.t === "p" && op.i === id) ||
    ((op.t === "v" || op.t === "e") && op.x.some(([changed]) => changed === id));
  for (const op of log) {
    if (op.t !== "a" || op.r[0] >= op.s) continue;
    const base = Math.max(0, ...bases.filter((seq) => seq < op.s));
    const record = toRecord(op.r);
    const changed = log.filter((other) => other.s > base && other.s < op.s && touched(other, record.i));
    expect(changed).toEqual([]);
  }
}
