/**
 * Plain HTTP: Cloud Run's probes and the browser client's static files. Socket.IO handles `/socket.io`
 * on the same server before this handler sees it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import Negotiator from "negotiator";
import serveStatic from "serve-static";
import { ID_PATTERN } from "../protocol/events";
import { servedOverHttps } from "./client-address";
import { newBoard } from "./identity";

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

/**
 * The compressed copies client/build.mjs writes beside each page and text asset, best first. Compressed once at build
 * time, at the highest settings, rather than on every request: smaller than a middleware compressing on the fly can
 * afford to make them, and no CPU per request (docs/client-app.md, "Assets").
 */
const ENCODINGS = [
  { name: "br", extension: ".br" },
  { name: "gzip", extension: ".gz" },
] as const;
type Encoding = (typeof ENCODINGS)[number]["name"] | "identity";

const TEXT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".html": "text/html; charset=utf-8",
};

/** A page the service holds in memory, in every encoding the build wrote. */
type Page = Partial<Record<Encoding, Buffer>>;

function loadPage(file: string): Page | undefined {
  if (!existsSync(file)) return undefined;
  const page: Page = { identity: readFileSync(file) };
  for (const { name, extension } of ENCODINGS)
    if (existsSync(file + extension)) page[name] = readFileSync(file + extension);
  return page;
}

/**
 * The best encoding of `available` the client accepts: ours in our order of preference (brotli is the smaller,
 * and browsers list their encodings at equal weight), else none. Negotiator reads Accept-Encoding's weights and
 * refusals (`br;q=0`, `identity;q=0`, `*`).
 */
function chooseEncoding(req: IncomingMessage, available: readonly Encoding[]): Encoding {
  const accepted = new Negotiator(req).encodings([...available, "identity"]);
  return ENCODINGS.find(({ name }) => available.includes(name) && accepted.includes(name))?.name ?? "identity";
}

/** The compressed copies of each asset, by the asset's file name (as listed at start: the build is immutable). */
function compressedAssets(folder: string): Map<string, Encoding[]> {
  const files = existsSync(folder) ? new Set(readdirSync(folder)) : new Set<string>();
  const variants = new Map<string, Encoding[]>();
  for (const file of files) {
    if (!(path.extname(file) in TEXT_TYPES)) continue;
    const encodings = ENCODINGS.filter(({ extension }) => files.has(file + extension)).map(({ name }) => name);
    if (encodings.length > 0) variants.set(file, encodings);
  }
  return variants;
}

export function createHttpHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const indexPage = loadPage(path.join(deps.clientDir, "index.html"));
  const notFoundPage = loadPage(path.join(deps.clientDir, "not-found.html"));
  const assetsDir = path.join(deps.clientDir, "assets");
  const compressed = compressedAssets(assetsDir);
  // Asset names carry a content hash, so they can be cached for good.
  const assets = serveStatic(assetsDir, {
    index: false,
    immutable: true,
    maxAge: "365d",
    fallthrough: true,
    setHeaders: (res) => setHeaders(res, SECURITY_HEADERS),
  });

  /** A page in the best encoding the client takes; never cached (it names the current build's assets). */
  const sendPage = (req: IncomingMessage, res: ServerResponse, status: number, page: Page) => {
    const encoding = chooseEncoding(req, Object.keys(page) as Encoding[]);
    send(res, status, page[encoding] ?? Buffer.alloc(0), {
      ...SECURITY_HEADERS,
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      vary: "accept-encoding",
      ...(encoding === "identity" ? {} : { "content-encoding": encoding }),
    });
  };

  /** A board address that is not one: a page that says so and offers a new board, or plain text without a build. */
  const sendNotFound = (req: IncomingMessage, res: ServerResponse) =>
    notFoundPage ? sendPage(req, res, 404, notFoundPage) : send(res, 404, "not found\n");

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

    // Every visit to the bare address starts a new board of its own: nobody lands on a board shared by every visitor.
    // The board's id (its view-only link) is derived from a random edit key, which travels in the fragment: the page
    // reads it there, and no request (nor any log of one) ever carries it.
    if (pathname === "/") {
      const { board, editKey } = newBoard();
      return send(res, 302, "", { location: `/b/${board}#edit=${editKey}`, "cache-control": "no-cache" });
    }

    if (isBoardPath(pathname)) {
      if (!indexPage) return send(res, 503, "the browser client is not built: run `npm run build`\n");
      return sendPage(req, res, 200, indexPage);
    }

    if (pathname.startsWith("/assets/")) {
      // The build writes source maps beside the scripts; they are public only when asked for. The compressed
      // copies are served only in place of their asset, with its type. (Checked as serve-static will read it:
      // decoded, so that `.m%61p` is a map too.)
      const name = decodedPath(pathname.slice("/assets/".length)) ?? ".map";
      if (!deps.sourceMaps && /\.map$/i.test(name)) return send(res, 404, "not found\n");
      if (/\.(br|gz)$/i.test(name)) return send(res, 404, "not found\n");
      req.url = pathname.slice("/assets".length);
      const encodings = compressed.get(name);
      if (encodings) {
        res.setHeader("vary", "accept-encoding");
        const chosen = ENCODINGS.find((encoding) => encoding.name === chooseEncoding(req, encodings));
        if (chosen) {
          res.setHeader("content-encoding", chosen.name);
          res.setHeader("content-type", TEXT_TYPES[path.extname(name)] as string);
          req.url = `/${name}${chosen.extension}`;
        }
      }
      assets(req, res, () => send(res, 404, "not found\n"));
      return;
    }
    if (pathname.startsWith("/b/")) return sendNotFound(req, res);
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
