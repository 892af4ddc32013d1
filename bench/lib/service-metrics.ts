/**
 * The instance metrics the benchmarks read (service/metrics.ts), by name and labels. A figure may sum several
 * series (pieces stored: the adds and the appends); a name the service does not export leaves its figure out.
 */
import type { MetricsSnapshot } from "../../local/metrics-reader";

type Series = readonly [name: string, labels: Readonly<Record<string, string>>];

/** Adds and appends of freehand lines stored: one per piece a drawer's message carried. */
export const PIECES_STORED: readonly Series[] = [
  ["whiteboard_operations_stored_total", { kind: "add" }],
  ["whiteboard_operations_stored_total", { kind: "append" }],
];

/** What bench/compare.ts reads per step (InstanceCounters in ./results.ts). */
export const STEP_COUNTERS = {
  piecesStored: PIECES_STORED,
  /** Draw calls of the store (the histogram's count: one observation per call). */
  storeCalls: [["whiteboard_draw_items_per_store_call_count", {}]],
  opsFrames: [["whiteboard_broadcast_messages_total", { event: "ops" }]],
  opsRecipients: [["whiteboard_broadcast_recipients_total", { event: "ops" }]],
  cursorFrames: [["whiteboard_broadcast_messages_total", { event: "cursors" }]],
  cursorRecipients: [["whiteboard_broadcast_recipients_total", { event: "cursors" }]],
  pubsubBytes: [["whiteboard_redis_pubsub_received_bytes_total", {}]],
} as const satisfies Record<string, readonly Series[]>;

/** The sum of `series` in a scrape, or undefined when the instance exports none of their names. */
export function sumOf(snapshot: MetricsSnapshot, series: readonly Series[]): number | undefined {
  if (!series.some(([name]) => snapshot.has(name))) return undefined;
  return series.reduce((total, [name, labels]) => total + snapshot.sum(name, labels), 0);
}
