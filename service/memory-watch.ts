/**
 * Watches how full Redis is (`INFO memory`: used_memory against maxmemory), because a full Redis refuses every
 * write: operators get a log line when it passes 80% and when it falls back, and the service makes clears free
 * space at once (instead of keeping cleared strokes for an undo) while it is above 90%.
 */
import type { Logger } from "./logger";

/** Above this share of maxmemory, a warning is logged. */
export const WARN_RATIO = 0.8;
/** Above this share, clears delete at once: space matters more than an undo. */
export const TIGHT_RATIO = 0.9;

export interface MemoryReading {
  usedBytes: number;
  /** 0 when Redis has no limit. */
  maxBytes: number;
}

export function parseMemoryInfo(info: string): MemoryReading {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { usedBytes: field("used_memory"), maxBytes: field("maxmemory") };
}

export class MemoryWatch {
  private reading: MemoryReading | undefined;
  private warned = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly readInfo: () => Promise<string>,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
    void this.poll();
  }

  /** used / max, or undefined before the first reading or when Redis has no limit. */
  get ratio(): number | undefined {
    return this.reading && this.reading.maxBytes > 0 ? this.reading.usedBytes / this.reading.maxBytes : undefined;
  }

  get tight(): boolean {
    return (this.ratio ?? 0) >= TIGHT_RATIO;
  }

  close(): void {
    clearInterval(this.timer);
  }

  async poll(): Promise<void> {
    try {
      this.reading = parseMemoryInfo(await this.readInfo());
    } catch {
      return; // Redis away: the connection's own log says so
    }
    const ratio = this.ratio ?? 0;
    if (ratio >= WARN_RATIO && !this.warned) {
      this.logger.warn({ ...this.reading, ratio: Number(ratio.toFixed(3)) }, "redis memory above 80% of maxmemory");
      this.warned = true;
    } else if (ratio < WARN_RATIO && this.warned) {
      this.logger.info({ ...this.reading, ratio: Number(ratio.toFixed(3)) }, "redis memory back under 80% of maxmemory");
      this.warned = false;
    }
  }
}
