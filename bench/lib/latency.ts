/**
 * Latency histograms (HdrHistogram, microsecond resolution) that load workers fill and the coordinator
 * merges across processes.
 */
import * as hdr from "hdr-histogram-js";

export type Histogram = hdr.Histogram;

export function createHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export const encodeHistogram = (histogram: Histogram): string => hdr.encodeIntoCompressedBase64(histogram);

export function mergeHistograms(encoded: readonly string[]): Histogram {
  const total = createHistogram();
  for (const item of encoded) total.add(hdr.decodeFromCompressedBase64(item));
  return total;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentiles in milliseconds. */
export function summarize(histogram: Histogram): LatencySummary {
  const ms = (percentile: number) => Math.round(histogram.getValueAtPercentile(percentile) / 100) / 10;
  return {
    count: histogram.totalCount,
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    max: Math.round(histogram.maxValue / 100) / 10,
  };
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export const clock = (): number => performance.timeOrigin + performance.now();
