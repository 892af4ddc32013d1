/**
 * Healing a store that lost writes (docs/protocol.md, "Epochs"): after the board took a new epoch whose history
 * lacks some of what this page knew, every element the new board lacks, or holds at a lower version, is sent back
 * with `add`, naming the epoch the knowledge comes from (`h`), with the version, author and appends it knew. The
 * store decides what it takes: never over a change made after the loss, so a late healer reverts nothing.
 *
 * A missing element is not proof of a loss (a snapshot leaves out pages a later clear archived), and a lower
 * version is not proof either (the new history may have changed it after the loss): the page sends what it knew
 * and lets the store, which can tell, choose.
 */
import type { ElementInput } from "../../protocol/events";
import type { BoardState, KnownElement } from "./board-state";

/** An element as a page knew it in epoch `epoch`. */
export interface EpochKnowledge extends KnownElement {
  epoch: string;
}

/** The `add`s that send back what `known` holds and `board` lacks or holds at a lower version. */
export function healingWrites(known: Iterable<EpochKnowledge>, board: BoardState): ElementInput[] {
  const writes: ElementInput[] = [];
  for (const { record, version, epoch } of known) {
    const theirs = board.versionOf(record.i);
    if (theirs !== undefined && theirs >= version) continue;
    const { i, t, x, y, w, h, c, sw, f, d, u, n } = record;
    writes.push({ id: i, t, b: [x, y, w, h], c, sw, f, d, h: epoch, v: version, u, n });
  }
  return writes;
}
