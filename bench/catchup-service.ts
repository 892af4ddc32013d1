/**
 * The catch-up benchmark's part through the service (bench/catchup.ts, CATCHUP_SERVICE=1): a board written element
 * by element with the protocol's `add`, as a page would write it, then read by the real page as a late joiner through
 * its view-only link.
 */
import { io, type Socket } from "socket.io-client";
import type { Browser } from "playwright-core";
import {
  PROTOCOL_VERSION,
  RETRYABLE_ERRORS,
  type ClientToServerEvents,
  type ElementInput,
  type ServerToClientEvents,
  type SyncAck,
  type WriteAck,
} from "../protocol/events";
import { randomId } from "../protocol/random-id";
import { newBoard } from "../service/identity";
import { UNTHROTTLED_WRITES } from "../test/abuse/support";

/** Elements sent before waiting for acknowledgements. */
const IN_FLIGHT = 64;
/** A refusal that may succeed later (rate limits) is retried after this long. */
const RETRY_MS = 200;

/**
 * Limits raised so that the writer is not the bottleneck (names as the service's configuration has them; a name the
 * service does not know is ignored by it).
 */
export const BENCH_SERVICE_ENV: Record<string, string> = {
  LOG_LEVEL: "warn",
  MAX_ELEMENTS_PER_BOARD: "1000000",
  MAX_BOARD_BYTES: String(256 * 2 ** 20),
  ...UNTHROTTLED_WRITES,
  READ_BYTES_PER_SECOND: String(2 ** 30),
  READ_BYTES_BURST: String(2 ** 30),
  READ_BYTES_PER_ADDRESS_PER_SECOND: String(2 ** 30),
  READ_BYTES_PER_ADDRESS_BURST: String(2 ** 30),
  JOINS_PER_SECOND: "1000",
  JOIN_BURST: "1000",
};

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * Writes `elements` to a new board through the service at `url` and returns the board's id (its view-only link's
 * name), as the join's answer names it for the edit key the writer made.
 */
export async function writeBoard(url: string, elements: readonly ElementInput[]): Promise<string> {
  const socket: ClientSocket = io(url, { transports: ["websocket"], reconnection: false });
  try {
    const { board, editKey } = newBoard();
    const joined = await new Promise<SyncAck>((resolve) =>
      socket.emit(
        "join",
        {
          pv: PROTOCOL_VERSION,
          board,
          edit: editKey,
          user: { key: randomId(24), name: "catch-up writer", color: "#000000" },
        },
        resolve,
      ),
    );
    if (!joined.ok) throw new Error(`join refused: ${joined.code}: ${joined.error}`);
    const add = (element: ElementInput): Promise<void> =>
      new Promise<WriteAck>((resolve) => socket.emit("add", element, resolve)).then(async (ack) => {
        if (ack.ok) return;
        if (!RETRYABLE_ERRORS.has(ack.code)) throw new Error(`add ${element.id} refused: ${ack.code}: ${ack.error}`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        return add(element);
      });
    for (let start = 0; start < elements.length; start += IN_FLIGHT)
      await Promise.all(elements.slice(start, start + IN_FLIGHT).map(add));
    return joined.board;
  } finally {
    socket.close();
  }
}

/** What the page exposes on window.whiteboard for measurements (client/app/main.ts). */
interface PageHandle {
  whiteboard?: {
    stats(): { firstPaintMs?: number; caughtUpMs?: number; fullyDrawnMs?: number };
    elementIds(): string[];
  };
  __socketTimes: { join?: number };
}

/** Records when `join` went out on the page's WebSocket (before any page script runs). */
const SOCKET_PROBE = `(() => {
  const Native = window.WebSocket;
  const times = (window.__socketTimes = {});
  window.WebSocket = class extends Native {
    send(data) {
      if (typeof data === "string" && data.includes('"join"')) times.join ??= performance.now();
      return super.send(data);
    }
  };
})();`;

/** Milliseconds, the page's clock (from navigation start). */
export interface PageCatchUp {
  joinMs: number;
  firstPaintMs: number;
  caughtUpMs: number;
  fullyDrawnMs: number;
  rendererCpuMs: number;
}

/** The real page as a late joiner of `board` (view only): when it sent `join`, painted first, caught up, drew all. */
export async function pageCatchUp(
  browser: Browser,
  viewport: { width: number; height: number },
  url: string,
  board: string,
  size: number,
): Promise<PageCatchUp> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await page.addInitScript({ content: SOCKET_PROBE });
    await page.goto(`${url}/b/${board}`);
    // Functions, not strings: the page's Content-Security-Policy forbids evaluating strings.
    await page.waitForFunction(
      () => (globalThis as unknown as PageHandle).whiteboard?.stats().fullyDrawnMs !== undefined,
      undefined,
      { timeout: 120_000, polling: 100 },
    );
    const { stats, shown, join } = await page.evaluate(() => {
      const handle = globalThis as unknown as PageHandle;
      return {
        stats: handle.whiteboard?.stats(),
        shown: handle.whiteboard?.elementIds().length,
        join: handle.__socketTimes.join,
      };
    });
    if (!stats || shown !== size) throw new Error(`the page shows ${shown} elements of ${size}`);
    await cdp.send("Performance.enable");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const seconds = metrics.find((metric) => metric.name === "ProcessTime")?.value ?? Number.NaN;
    return {
      joinMs: join ?? Number.NaN,
      firstPaintMs: stats.firstPaintMs ?? Number.NaN,
      caughtUpMs: stats.caughtUpMs ?? Number.NaN,
      fullyDrawnMs: stats.fullyDrawnMs ?? Number.NaN,
      rendererCpuMs: Math.round(seconds * 1000),
    };
  } finally {
    await context.close();
  }
}
