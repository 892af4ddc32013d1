/**
 * Log lines an attacker can cause in bulk (refused connections, cut connections), bounded: at most `perWindow` lines
 * of one kind per window; past that, lines are counted, and the next line written says how many were left out.
 * Metrics count every event; the log keeps examples with their client address.
 */
import type { Logger } from "./logger";

interface Window {
  startedAt: number;
  written: number;
  dropped: number;
}

export class SampledLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write("warn", kind, fields, message);
  }

  info(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write("info", kind, fields, message);
  }

  private write(level: "warn" | "info", kind: string, fields: Record<string, unknown>, message: string): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const now = this.now();
    let window = this.windows.get(kind);
    if (!window || now - window.startedAt >= this.windowMs) {
      const dropped = window?.dropped ?? 0;
      window = { startedAt: now, written: 0, dropped: 0 };
      this.windows.set(kind, window);
      if (dropped > 0) fields = { ...fields, linesLeftOut: dropped };
    }
    if (window.written >= this.perWindow) {
      window.dropped += 1;
      return;
    }
    window.written += 1;
    this.logger[level]({ kind, ...fields }, message);
  }
}
