/**
 * Lines and their chunks. What a person draws between pointer down and up is one line; the outbox sends it as
 * chunks, each a stroke of the protocol with the id `<line id>-<n>`. People think in lines: the eraser and undo
 * act on whole lines, while the store and the board only know strokes.
 */
import type { StrokeRecord } from "../../protocol/events";

/** The line a chunk belongs to: its id without the last `-<n>`. */
export const lineOf = (chunkId: string): string => chunkId.replace(/-\d+$/, "");

/** The ids of every stroke among `strokes` in the same line (same author, same line id) as one of `chunks`. */
export function chunksOfLines(strokes: readonly StrokeRecord[], chunks: readonly StrokeRecord[]): string[] {
  if (chunks.length === 0) return [];
  const key = (record: StrokeRecord) => `${record.u} ${lineOf(record.i)}`;
  const lines = new Set(chunks.map(key));
  return strokes.filter((record) => lines.has(key(record))).map((record) => record.i);
}
