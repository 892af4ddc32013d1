/**
 * `make smoke`: after a deploy, checks the deployed whiteboard through its real front end (Google's, or `make dev`'s
 * in the tests) as a user would meet it, and reports one row per check:
 *
 * - the bare address sends a browser to a fresh board of its own (its edit key in the link's fragment), whose page
 *   carries the security headers;
 * - the external health path answers, and `/metrics` is not public;
 * - two clients on that board with its edit key: a line each way, then a late joiner with the view-only link
 *   catches up with both;
 * - a WebSocket stays open past `holdSeconds` (Cloud Run's front end must not cut it early) and still carries a line.
 *
 * Only ./protocol-probe.ts speaks the whiteboard's protocol; this file does HTTP, timing and the table.
 */
import { openClient, type ProbeClient } from "./protocol-probe";

export interface SmokeOptions {
  /** The deployed front, e.g. https://board.example.com or the run.app URL. */
  url: string;
  /** How long one WebSocket must stay open. @default 70 (past a minute) */
  holdSeconds?: number;
  /** How long a line may take to reach another client. @default 5000 */
  deliveryMs?: number;
}

export interface SmokeRow {
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** Headers every page must carry (service/http.ts); HSTS only over HTTPS. */
const PAGE_HEADERS: Record<string, RegExp> = {
  "content-security-policy": /default-src 'none'/,
  "x-content-type-options": /^nosniff$/,
  "referrer-policy": /^no-referrer$/,
  "cross-origin-opener-policy": /^same-origin$/,
  "permissions-policy": /camera=\(\)/,
};

export async function runSmoke(options: SmokeOptions): Promise<SmokeRow[]> {
  const base = options.url.replace(/\/+$/, "");
  const origin = new URL(base).origin;
  const holdMs = (options.holdSeconds ?? 70) * 1000;
  const deliveryMs = options.deliveryMs ?? 5_000;
  const rows: SmokeRow[] = [];
  const check = async (name: string, body: () => Promise<string>): Promise<boolean> => {
    const started = performance.now();
    try {
      const detail = await body();
      rows.push({ check: name, ok: true, detail, ms: Math.round(performance.now() - started) });
      return true;
    } catch (error) {
      rows.push({
        check: name,
        ok: false,
        detail: (error as Error).message,
        ms: Math.round(performance.now() - started),
      });
      return false;
    }
  };

  let board = "";
  let edit = "";
  await check("a visit gets a fresh board", async () => {
    const response = await fetch(`${base}/`, { redirect: "manual" });
    const location = response.headers.get("location") ?? "";
    // The edit key travels in the fragment, which a browser never sends in a request.
    const match = /^\/b\/([A-Za-z0-9_-]+)#edit=([A-Za-z0-9_-]+)$/.exec(location);
    if (response.status !== 302 || !match) throw new Error(`GET / answered ${response.status} to "${location}"`);
    [, board = "", edit = ""] = match;
    return `/b/${board}#edit=…`;
  });
  await check("the board's page and its security headers", async () => {
    const response = await fetch(`${base}/b/${board || "smoke"}`);
    const body = await response.text();
    if (response.status !== 200 || !body.includes("<script")) throw new Error(`GET /b/… answered ${response.status}`);
    const wanted = {
      ...PAGE_HEADERS,
      ...(base.startsWith("https:") ? { "strict-transport-security": /max-age=\d+/ } : {}),
    };
    const missing = Object.entries(wanted).filter(([name, pattern]) => !pattern.test(response.headers.get(name) ?? ""));
    if (missing.length > 0) throw new Error(`missing or wrong: ${missing.map(([name]) => name).join(", ")}`);
    return `${Object.keys(wanted).length} headers`;
  });
  await check("health through the front end", async () => {
    const response = await fetch(`${base}/health/live`);
    const body = await response.text();
    if (response.status !== 200 || !body.includes("ok"))
      throw new Error(`GET /health/live answered ${response.status}`);
    return "GET /health/live 200";
  });
  await check("/metrics is not public", async () => {
    const response = await fetch(`${base}/metrics`);
    const body = await response.text();
    if (response.status === 200 || body.includes("# TYPE")) throw new Error(`GET /metrics answered ${response.status}`);
    return `GET /metrics ${response.status}`;
  });

  const clients: ProbeClient[] = [];
  try {
    let lines: string[] = [];
    const drawn = await check("two clients: a line each way", async () => {
      const [a, b] = await Promise.all([openClient(base, origin), openClient(base, origin)]);
      clients.push(a, b);
      await a.join(board, edit);
      await b.join(board, edit);
      const fromA = await a.draw();
      await b.sees(fromA, deliveryMs);
      const fromB = await b.draw();
      await a.sees(fromB, deliveryMs);
      lines = [fromA, fromB];
      return "A→B and B→A";
    });
    await check("a late joiner catches up", async () => {
      if (!drawn) throw new Error("no lines to catch up with");
      const late = await openClient(base, origin);
      clients.push(late);
      const held = await late.join(board);
      const missing = lines.filter((id) => !held.includes(id));
      if (missing.length > 0) throw new Error(`its catch-up lacks ${missing.length} of ${lines.length} lines`);
      return `${held.length} lines`;
    });
    await check(`a WebSocket stays open ${holdMs / 1000} s`, async () => {
      const [a, b] = clients;
      if (!a || !b) throw new Error("no clients to hold");
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      if (!a.connected || a.disconnects > 0)
        throw new Error(`closed ${a.disconnects} time(s) within ${holdMs / 1000} s`);
      const after = await a.draw();
      await b.sees(after, deliveryMs);
      return "open, and still carries lines";
    });
  } finally {
    for (const client of clients) client.close();
  }
  return rows;
}

/** The rows as a short fixed-width table. */
export function formatTable(rows: readonly SmokeRow[]): string {
  const width = Math.max(...rows.map((row) => row.check.length), 5);
  return [
    `${"check".padEnd(width)}  result  ms      detail`,
    ...rows.map(
      (row) =>
        `${row.check.padEnd(width)}  ${row.ok ? "ok    " : "FAILED"}  ${String(row.ms).padEnd(6)}  ${row.detail}`,
    ),
  ].join("\n");
}
