/**
 * What the attack tests measure on the instance's process (CPU time, RSS, bytes written, from /proc) and on its log.
 */
import { readFileSync } from "node:fs";
import { createClient } from "redis";
import type { RedisServer } from "../../local/redis-server";
import { waitFor } from "../../local/ports";
import { SERVICE_ENTRY } from "../../local/service-instance";
import { makeLine } from "../support/socket-client";
import type { ElementInput } from "../../protocol/events";
import { encodeSamples } from "../../protocol/points";
import { redisTlsOptions } from "../../service/redis-tls";

/** Linux's clock tick for /proc/<pid>/stat times (USER_HZ, 100 on every common architecture). */
const TICKS_PER_SECOND = 100;

export interface ProcessFigures {
  /** User and system CPU time so far. */
  cpuMs: number;
  rssBytes: number;
  /** Bytes passed to write(2) and the like so far: sockets (clients, Redis) and the log. */
  writtenBytes: number;
}

export function processFigures(pid: number): ProcessFigures {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const written = Number(/^wchar:\s+(\d+)/m.exec(io)?.[1] ?? 0);
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssBytes: rssKb * 1024, writtenBytes: written };
}

/** The highest RSS of a process while `during` runs, sampled every 50 ms. */
export async function peakRss<T>(pid: number, during: () => Promise<T>): Promise<{ result: T; peakRssBytes: number }> {
  let peak = processFigures(pid).rssBytes;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, processFigures(pid).rssBytes);
    } catch {
      // gone
    }
  }, 50);
  try {
    const result = await during();
    peak = Math.max(peak, processFigures(pid).rssBytes);
    return { result, peakRssBytes: peak };
  } finally {
    clearInterval(timer);
  }
}

/** Collects the JSON log lines of named processes (a Topology's `onLine`). */
export class LogLines {
  readonly lines: { source: string; entry: Record<string, unknown> }[] = [];

  readonly onLine = (source: string, line: string): void => {
    try {
      this.lines.push({ source, entry: JSON.parse(line) as Record<string, unknown> });
    } catch {
      // not a JSON line (redis-server's own output)
    }
  };

  /** Lines of `source` from index `since` on, whose message matches. */
  matching(message: RegExp | string, since = 0, source?: string): Record<string, unknown>[] {
    return this.lines
      .slice(since)
      .filter(
        (line) =>
          (source === undefined || line.source === source) &&
          (typeof message === "string" ? line.entry.message === message : message.test(String(line.entry.message))),
      )
      .map((line) => line.entry);
  }

  /** What `matching` finds once it finds anything: a line travels through the instance's stdout, behind its ack. */
  async awaitMatching(message: RegExp | string, since = 0, source?: string): Promise<Record<string, unknown>[]> {
    await waitFor(
      `a log line "${String(message)}"`,
      () => this.matching(message, since, source).length > 0,
      5_000,
      20,
    ).catch(() => undefined);
    return this.matching(message, since, source);
  }

  get length(): number {
    return this.lines.length;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
export const MIB = 2 ** 20;

/**
 * The write budgets and the event rate out of the way, for the process that builds a large board before an attack or
 * a measurement: building it is not what they measure.
 */
export const UNTHROTTLED_WRITES = {
  WRITE_BYTES_PER_SECOND: String(100 * MIB),
  WRITE_BYTES_BURST: String(1024 * MIB),
  WRITE_BYTES_PER_ADDRESS_PER_SECOND: String(100 * MIB),
  WRITE_BYTES_PER_ADDRESS_BURST: String(1024 * MIB),
  RATE_LIMIT_PER_SECOND: "10000",
  RATE_LIMIT_BURST: "100000",
};

/** `promise`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Node arguments that start an instance with the V8 heap it gets on Cloud Run: Node sizes the heap from the memory it
 * can see, which in a 512 MiB instance (the stacks' default) gives about 256 MiB of old space, and on this machine
 * (24 GiB) 4 GiB, which lets garbage pile up for seconds before a collection.
 */
export const CLOUD_RUN_HEAP = ["--max-old-space-size=256", SERVICE_ENTRY];

/** A plain Redis client on the stand-in, as an operator's redis-cli: for CONFIG SET and INFO. */
export async function operatorRedis(server: RedisServer) {
  const { url, password, caCert } = server.clientConfig;
  const client = createClient({ url, password, socket: redisTlsOptions(caCert) });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Microseconds Redis spent in scripts so far (INFO commandstats: every EVAL and EVALSHA variant). */
export async function scriptMicroseconds(client: Awaited<ReturnType<typeof operatorRedis>>): Promise<number> {
  const info = await client.info("commandstats");
  let usec = 0;
  for (const [, value] of info.matchAll(/^cmdstat_eval\w*:calls=\d+,usec=(\d+)/gm)) usec += Number(value);
  return usec;
}

/** A square of the canvas the scribbles stay in (board units). */
const AREA = 160_000;

/**
 * 1,000-sample lines (the most one add may hold) with long jumps between samples and pressure: about 7 KB of points
 * each, the most bytes per event. A few, reused.
 */
const SCRIBBLES = Array.from({ length: 16 }, (_, seed) => {
  let [x, y] = [(seed * 7_919) % AREA, (seed * 104_729) % AREA];
  const samples: [number, number, number][] = [];
  for (let i = 0; i < 1_000; i++) {
    x = (x + 1_000 + ((i * 7_919 + seed) % 3_000)) % AREA;
    y = (y + 1_000 + ((i * 104_729 + seed) % 3_000)) % AREA;
    samples.push([x, y, 1 + ((i + seed) % 15)]);
  }
  return encodeSamples(samples);
});

/** The `n`th of the biggest lines, with a fresh id. */
export const bigLine = (n: number): ElementInput =>
  makeLine({ d: SCRIBBLES[n % SCRIBBLES.length] as string, b: [0, 0, AREA, AREA] });
