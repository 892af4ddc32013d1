/**
 * A development front that behaves like Cloud Run's, so that what breaks multi-instance real-time apps on
 * Cloud Run breaks here first:
 * - every new request or WebSocket goes to any ready instance, with no affinity;
 * - each request (a WebSocket is one long request) holds one of an instance's `maxConcurrency` slots;
 *   when every instance is full the front answers HTTP 429, as Cloud Run does when it cannot scale further;
 * - a WebSocket is cut when it reaches the request timeout, whatever it is doing.
 *
 * It is a development and test tool; it is not deployed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import httpProxy from "http-proxy";

export interface Backend {
  name: string;
  /** `http://127.0.0.1:port` */
  url: string;
}

export interface FrontOptions {
  /** Default: 8080. 0 picks a free port. */
  port?: number;
  /** Cloud Run's request timeout: WebSockets are cut at this age. Default: 3,600,000 (60 minutes). */
  requestTimeoutMs?: number;
  /** Cloud Run's maximum concurrent requests per instance. Default: 250. */
  maxConcurrency?: number;
  /** The instances that may take new requests right now (ready, not draining). */
  backends: () => readonly Backend[];
}

export interface FrontStats {
  /** Open requests and WebSockets per backend name. */
  active: Record<string, number>;
  /** WebSockets cut at the request timeout so far. */
  timeoutCuts: number;
  /** Requests refused with 429 so far. */
  refused: number;
}

export class Front {
  private readonly server: Server;
  private readonly proxy = httpProxy.createProxyServer({ xfwd: true, ws: true });
  private readonly active = new Map<string, number>();
  private readonly sockets = new Set<Duplex>();
  private readonly requestTimeoutMs: number;
  private readonly maxConcurrency: number;
  private next = 0;
  private timeoutCuts = 0;
  private refused = 0;

  constructor(private readonly options: FrontOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3_600_000;
    this.maxConcurrency = options.maxConcurrency ?? 250;
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(req, socket, head),
    );
    // The backend end of a WebSocket goes when the client end goes, and the other way round.
    this.proxy.on("proxyReqWs", (proxyReq, _req, socket) => {
      proxyReq.on("upgrade", (_res, backendSocket: Duplex) => {
        socket.once("close", () => backendSocket.destroy());
        backendSocket.once("close", () => socket.destroy());
      });
    });
    this.proxy.on("error", (_error, _req, target) => {
      if ("writeHead" in target) {
        if (!target.headersSent) target.writeHead(502, { "content-type": "text/plain" });
        target.end("bad gateway: the instance did not answer\n");
      } else {
        target.destroy();
      }
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 8080, "127.0.0.1", () =>
        resolve((this.server.address() as { port: number }).port),
      );
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  stats(): FrontStats {
    return { active: Object.fromEntries(this.active), timeoutCuts: this.timeoutCuts, refused: this.refused };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    this.proxy.close();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const backend = this.claim();
    if (!backend) {
      res.writeHead(429, { "content-type": "text/plain", "retry-after": "1" });
      res.end("Rate exceeded: every instance is at its maximum concurrency.\n");
      return;
    }
    res.once("close", () => this.release(backend));
    this.proxy.web(req, res, { target: backend.url });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const backend = this.claim();
    if (!backend) {
      socket.end("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    this.sockets.add(socket);
    const cut = setTimeout(() => {
      this.timeoutCuts += 1;
      socket.destroy();
    }, this.requestTimeoutMs);
    socket.once("close", () => {
      clearTimeout(cut);
      this.sockets.delete(socket);
      this.release(backend);
    });
    this.proxy.ws(req, socket, head, { target: backend.url });
  }

  /** Takes a slot on the next backend, round robin, that has one free; undefined when none has. */
  private claim(): Backend | undefined {
    const backends = this.options.backends();
    for (let tried = 0; tried < backends.length; tried += 1) {
      const backend = backends[(this.next + tried) % backends.length] as Backend;
      const active = this.active.get(backend.name) ?? 0;
      if (active < this.maxConcurrency) {
        this.next = (this.next + tried + 1) % backends.length;
        this.active.set(backend.name, active + 1);
        return backend;
      }
    }
    this.refused += 1;
    return undefined;
  }

  private release(backend: Backend): void {
    this.active.set(backend.name, (this.active.get(backend.name) ?? 1) - 1);
  }
}
