/**
 * Plain HTTP: Cloud Run's probes and the browser client's static files. Socket.IO handles `/socket.io`
 * on the same server before this handler sees it.
 */
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import serveStatic from "serve-static";
import { ID_PATTERN } from "../protocol/events";
import { newBoardId } from "../protocol/random-id";
import { servedOverHttps } from "./client-address";

export interface HttpDeps {
  /** Folder holding the built client (index.html and assets/). */
  clientDir: string;
  isReady(): boolean;
  /** Serve `/assets/*.map` (SOURCE_MAPS); otherwise they are not found. */
  sourceMaps?: boolean;
}

/** Only what the page needs: its own scripts and styles, and sockets back to where it came from. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Powerful features the page never uses, refused to it and to anything it could ever embed. */
const PERMISSIONS_POLICY = [
  "accelerometer=()",
  "camera=()",
  "display-capture=()",
  "geolocation=()",
  "gyroscope=()",
  "magnetometer=()",
  "microphone=()",
  "midi=()",
  "payment=()",
  "usb=()",
].join(", ");

const SECURITY_HEADERS = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "permissions-policy": PERMISSIONS_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/**
 * HTTPS only from now on, for a year, on responses that came over HTTPS (X-Forwarded-Proto from Cloud Run or the load
 * balancer; browsers ignore the header over plain HTTP anyway). Not for subdomains: they may be someone else's.
 */
const HSTS = "max-age=31536000";

export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const indexPath = path.join(deps.clientDir, "index.html");
  const indexHtml = existsSync(indexPath) ? readFileSync(indexPath) : undefined;
  // Asset names carry a content hash, so they can be cached for good.
  const assets = serveStatic(path.join(deps.clientDir, "assets"), {
    index: false,
    immutable: true,
    maxAge: "365d",
    fallthrough: true,
    setHeaders: (res) => setHeaders(res, SECURITY_HEADERS),
  });

  return (req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    if (servedOverHttps(req)) res.setHeader("strict-transport-security", HSTS);
    if (req.method !== "GET" && req.method !== "HEAD")
      return send(res, 405, "method not allowed\n", { allow: "GET, HEAD" });

    // /health/*: through Google's front end too, which answers some paths ending in `z` itself (Cloud Run's known
    // issues); /healthz and /readyz stay for the probes, which reach the container directly.
    if (pathname === "/healthz" || pathname === "/health/live") return send(res, 200, "ok\n");
    if (pathname === "/readyz" || pathname === "/health/ready")
      return deps.isReady() ? send(res, 200, "ready\n") : send(res, 503, "not ready\n");

    // Every visit to the bare address starts a new board of its own: nobody lands on a board shared by every
    // visitor, and a board's address is as hard to guess as its 128 random bits.
    if (pathname === "/") return send(res, 302, "", { location: `/b/${newBoardId()}`, "cache-control": "no-cache" });

    if (isBoardPath(pathname)) {
      if (!indexHtml) return send(res, 503, "the browser client is not built: run `npm run build`\n");
      return send(res, 200, indexHtml, {
        ...SECURITY_HEADERS,
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
      });
    }

    if (pathname.startsWith("/assets/")) {
      // The build writes source maps beside the scripts; they are public only when asked for.
      // (Checked as serve-static will read it: decoded, so that `.m%61p` is a map too.)
      if (!deps.sourceMaps && /\.map$/i.test(decodedPath(pathname) ?? ".map")) return send(res, 404, "not found\n");
      req.url = pathname.slice("/assets".length);
      return assets(req, res, () => send(res, 404, "not found\n"));
    }
    return send(res, 404, "not found\n");
  };
}

function decodedPath(pathname: string): string | undefined {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

function isBoardPath(pathname: string): boolean {
  const match = /^\/b\/([^/]+)\/?$/.exec(pathname);
  return match !== null && ID_PATTERN.test(match[1] ?? "");
}

function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
}

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  setHeaders(res, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(body);
}
