/**
 * What the page shows: the board as the store has it, with this page's writes that the board does not reflect yet
 * laid on top, in the order they were made (a line being drawn, a shape not acknowledged, an erase or a move on its
 * way). The board itself never holds a guess, so it converges to the store's whatever the network does; this layer
 * only answers the user at once. Each write leaves it when the board holds its effect (Outbox.settle), and from then
 * on the board, with anyone's later changes, is what shows.
 */
import type { ElementInput, ElementRecord } from "../../protocol/events";
import { stackingOrder, withPatch, type BoardState } from "./board-state";
import type { Line, Outbox } from "./outbox";

/** Seqs and z of elements not stored yet: above everything stored, in the order they were made. */
const UNSTORED = 2 ** 52;

/**
 * An element as shown before the board has it. Once acknowledged at seq `acked`, it is placed where the store put it
 * (a new element's s and z are its seq), so that its own operation, when it arrives, moves nothing.
 */
function unstored(input: ElementInput, order: number, user: string, acked: number | undefined): ElementRecord {
  const [x, y, w, h] = input.b;
  const s = acked ?? UNSTORED + order;
  return {
    ...{ s, g: 0, o: 0, v: input.v ?? 0, i: input.id, u: input.u ?? user, t: input.t },
    ...{ z: s, x, y, w, h, c: input.c, sw: input.sw, f: input.f, n: input.n ?? 0, d: input.d, l: 0 },
  };
}

export class ShownBoard {
  /** Per element the writes touch: the record shown, or null when hidden. Computed when first asked. */
  private overlay: Map<string, ElementRecord | null> | undefined;
  private list: readonly ElementRecord[] | undefined;

  constructor(
    private readonly board: () => BoardState,
    private readonly outbox: Outbox,
    private readonly user: () => string,
  ) {}

  /** The board or the outbox changed. */
  invalidate(): void {
    this.overlay = undefined;
    this.list = undefined;
  }

  /** A visible element as shown, or undefined. */
  element(id: string): ElementRecord | undefined {
    const overlay = this.layer();
    if (overlay.has(id)) return overlay.get(id) ?? undefined;
    const board = this.board();
    return board.isVisible(id) ? board.get(id) : undefined;
  }

  /** Visible elements in stacking order. */
  elements(): readonly ElementRecord[] {
    if (this.list) return this.list;
    const base = this.board().elements();
    const overlay = this.layer();
    if (overlay.size === 0) return (this.list = base);
    const shown = base.filter((record) => !overlay.has(record.i));
    for (const record of overlay.values()) if (record) shown.push(record);
    return (this.list = shown.sort(stackingOrder));
  }

  /** A line of this page's as drawn so far: every point, sent or not. */
  private drawn(line: Line, record: ElementRecord): ElementRecord {
    const [x, y, w, h] = this.outbox.boxOf(line);
    return { ...record, d: this.outbox.pointsOf(line), n: line.appends, x, y, w, h };
  }

  private layer(): Map<string, ElementRecord | null> {
    if (this.overlay) return this.overlay;
    const board = this.board();
    /** The latest record of each element written, visible or not, and whether it shows. */
    const records = new Map<string, ElementRecord>();
    const visible = new Map<string, boolean>();
    const recordOf = (id: string) => records.get(id) ?? board.get(id);
    const shows = (id: string) => visible.get(id) ?? board.isVisible(id);
    let order = 0;
    // The board's lowest and highest z, only for an edit that sends something to the back or front: asking for them
    // sorts the board, which a late joiner's page would otherwise do for every answer of its catch-up.
    let zRange: [bottom: number, top: number] | undefined;
    const range = () => (zRange ??= [board.elements()[0]?.z ?? 0, board.elements().at(-1)?.z ?? 0]);
    for (const entry of this.outbox.entries) {
      const { write } = entry;
      switch (write.kind) {
        case "add": {
          const { input } = write;
          order += 1;
          const held = board.get(input.id);
          const theirs = board.versionOf(input.id) ?? -1;
          // A healing add knows a later version than the board's until the store decides.
          const ours = input.v ?? 0;
          // A healed element keeps the seq it had (the store decides); a new one's is its acknowledgement's.
          const acked = input.h === undefined ? entry.acked?.s : undefined;
          const record = held && theirs >= ours ? held : unstored(input, order, this.user(), acked);
          records.set(input.id, entry.line ? this.drawn(entry.line, record) : record);
          visible.set(input.id, held && theirs >= ours ? board.isVisible(input.id) : ours % 2 === 0);
          break;
        }
        case "append": {
          // Appends still on their way after the line's add left the outbox: the board's line, with every point.
          const held = board.get(write.input.i);
          if (entry.line && held && !records.has(write.input.i)) records.set(held.i, this.drawn(entry.line, held));
          break;
        }
        case "erase":
        case "restore":
          for (const id of write.input.ids) if (recordOf(id)) visible.set(id, write.kind === "restore");
          break;
        case "edit":
          for (const [id, { o, ...patch }] of write.input.x) {
            const record = recordOf(id);
            if (!record || !shows(id)) continue;
            // To the front or back: the store sets z to the edit's seq, or its negation; a guess until acknowledged.
            const z =
              o === undefined ? undefined : entry.acked ? o * entry.acked.s : o === 1 ? ++range()[1] : --range()[0];
            records.set(id, withPatch(record, z === undefined ? patch : { ...patch, z }));
          }
          break;
      }
    }
    const overlay = new Map<string, ElementRecord | null>();
    for (const id of new Set([...records.keys(), ...visible.keys()])) {
      const record = recordOf(id);
      overlay.set(id, record && shows(id) ? record : null);
    }
    return (this.overlay = overlay);
  }
}
