/**
 * Reads an instance's metrics (Prometheus text format, GET /metrics on METRICS_PORT) into numbers: what `make dev`'s
 * `status` prints and what the tests assert on. Enough of the format for what prom-client writes.
 */

/** One sample: a metric name, its labels and its value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A scrape, with the time it was taken. */
export class MetricsSnapshot {
  constructor(
    readonly samples: readonly Sample[],
    readonly at: number = Date.now(),
  ) {}

  static parse(text: string, at = Date.now()): MetricsSnapshot {
    const samples: Sample[] = [];
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (!match) continue;
      const labels: Record<string, string> = {};
      for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[key as string] = (value as string).replace(/\\(.)/g, (_, char: string) => (char === "n" ? "\n" : char));
      }
      samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
    }
    return new MetricsSnapshot(samples, at);
  }

  /** Samples of `name` whose labels include `labels`. */
  select(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  }

  /** Sum of the matching samples (0 when there are none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.select(name, labels).reduce((total, sample) => total + sample.value, 0);
  }

  /** Whether any sample of `name` exists. */
  has(name: string): boolean {
    return this.samples.some((sample) => sample.name === name);
  }

  /** The cumulative buckets of histogram `name` (summed over series matching `labels`), by upper bound. */
  buckets(name: string, labels: Record<string, string> = {}): Map<number, number> {
    const buckets = new Map<number, number>();
    for (const sample of this.select(`${name}_bucket`, labels)) {
      const bound = sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le);
      buckets.set(bound, (buckets.get(bound) ?? 0) + sample.value);
    }
    return buckets;
  }
}

/** Per-second rate of counter `name` between two scrapes. */
export function rate(
  before: MetricsSnapshot,
  after: MetricsSnapshot,
  name: string,
  labels: Record<string, string> = {},
): number {
  const seconds = (after.at - before.at) / 1000;
  return seconds > 0 ? Math.max(0, after.sum(name, labels) - before.sum(name, labels)) / seconds : 0;
}

/**
 * The `q` quantile of histogram `name` over what was observed between two scrapes (`before` omitted: since start), as
 * Prometheus' histogram_quantile estimates it (linear within the bucket). Undefined when nothing was observed.
 */
export function quantile(
  q: number,
  after: MetricsSnapshot,
  name: string,
  labels: Record<string, string> = {},
  before?: MetricsSnapshot,
): number | undefined {
  const now = after.buckets(name, labels);
  const then = before?.buckets(name, labels) ?? new Map<number, number>();
  const bounds = [...now.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (now.get(bound) ?? 0) - (then.get(bound) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let index = 0; index < bounds.length; index++) {
    if ((counts[index] as number) >= rank) {
      const upper = bounds[index] as number;
      const lower = index === 0 ? 0 : (bounds[index - 1] as number);
      if (upper === Infinity) return lower;
      const below = index === 0 ? 0 : (counts[index - 1] as number);
      const inBucket = (counts[index] as number) - below;
      return inBucket > 0 ? lower + ((upper - lower) * (rank - below)) / inBucket : upper;
    }
  }
  return undefined;
}

/** Scrapes `url` (an instance's metricsUrl). */
export async function scrape(url: string, timeoutMs = 2_000): Promise<MetricsSnapshot> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return MetricsSnapshot.parse(await response.text());
}
