/**
 * Watches how full Redis is (`INFO memory`: used_memory against maxmemory), because a full Redis refuses every
 * write: operators get a log line when it passes 80% and when it falls back, and the service makes clears free
 * space at once (instead of keeping cleared strokes for an undo) while it is above 90%.
 */
import type { Logger } from "./logger";

/** Above this share of maxmemory, a warning is logged. */
const WARN_RATIO = 0.8;
/** Above this share, clears delete at once: space matters more than an undo. */
const TIGHT_RATIO = 0.9;

export interface MemoryReading {
  usedBytes: number;
  /** 0 when Redis has no limit. */
  maxBytes: number;
}

export function parseMemoryInfo(info: string): MemoryReading {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { usedBytes: field("used_memory"), maxBytes: field("maxmemory") };
}

/** INFO memory of one node (a cluster has one per primary). */
export interface NodeMemoryInfo {
  node: string;
  info: string;
}

export class MemoryWatch {
  /** Each node's last reading: one Redis, or each primary of a cluster (a board lives on one). */
  private readings = new Map<string, MemoryReading>();
  private readonly warned = new Set<string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly readInfo: () => Promise<string | NodeMemoryInfo[]>,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
    void this.poll();
  }

  /** used / max of the fullest node, or undefined before the first reading or when Redis has no limit. */
  get ratio(): number | undefined {
    const ratios = [...this.readings.values()].flatMap((reading) =>
      reading.maxBytes > 0 ? [reading.usedBytes / reading.maxBytes] : [],
    );
    return ratios.length > 0 ? Math.max(...ratios) : undefined;
  }

  /** Whether the fullest node is above TIGHT_RATIO. */
  get tight(): boolean {
    return (this.ratio ?? 0) >= TIGHT_RATIO;
  }

  /** Whether `node` (the primary that holds a board) is above TIGHT_RATIO. */
  tightAt(node: string): boolean {
    const reading = this.readings.get(node);
    return reading !== undefined && reading.maxBytes > 0 && reading.usedBytes / reading.maxBytes >= TIGHT_RATIO;
  }

  close(): void {
    clearInterval(this.timer);
  }

  async poll(): Promise<void> {
    let infos: NodeMemoryInfo[];
    try {
      const read = await this.readInfo();
      infos = typeof read === "string" ? [{ node: "redis", info: read }] : read;
    } catch {
      return; // Redis away: the connection's own log says so
    }
    if (infos.length === 0) return;
    this.readings = new Map(infos.map(({ node, info }) => [node, parseMemoryInfo(info)]));
    for (const [node, reading] of this.readings) {
      const ratio = reading.maxBytes > 0 ? reading.usedBytes / reading.maxBytes : 0;
      const where = this.readings.size > 1 || node !== "redis" ? { node } : {};
      if (ratio >= WARN_RATIO && !this.warned.has(node)) {
        this.logger.warn(
          { ...where, ...reading, ratio: Number(ratio.toFixed(3)) },
          "redis memory above 80% of maxmemory",
        );
        this.warned.add(node);
      } else if (ratio < WARN_RATIO && this.warned.has(node)) {
        this.logger.info(
          { ...where, ...reading, ratio: Number(ratio.toFixed(3)) },
          "redis memory back under 80% of maxmemory",
        );
        this.warned.delete(node);
      }
    }
  }
}
