/**
 * The metrics endpoint: `GET /metrics` on its own port (METRICS_PORT), apart from the public HTTP server. On Cloud
 * Run only the ingress container's port receives requests, so this port is reachable only from inside the instance,
 * where the Managed Service for Prometheus sidecar scrapes it; the public front never serves it.
 *
 * After a drain, the process can wait briefly for one more scrape (METRICS_FINAL_SCRAPE_SECONDS), so that the last
 * figures of a stopping instance (its drain among them) reach Cloud Monitoring: the sidecar scrapes once more when it
 * is itself stopped.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface MetricsEndpoint {
  scrape(): Promise<string>;
  readonly contentType: string;
}

export class MetricsServer {
  private readonly server: Server;
  /** Scrapes begun so far; each waiter wants one numbered above what had begun when it started waiting. */
  private begun = 0;
  private waiters: Array<{ after: number; wake(): void }> = [];

  constructor(private readonly metrics: MetricsEndpoint) {
    this.server = createServer((req, res) => {
      const { pathname } = new URL(req.url ?? "/", "http://localhost");
      if (req.method !== "GET" || pathname !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found: GET /metrics\n");
        return;
      }
      const number = ++this.begun;
      this.metrics.scrape().then(
        (text) => {
          res.writeHead(200, { "content-type": this.metrics.contentType, "cache-control": "no-store" }).end(text);
          const waiting = this.waiters;
          this.waiters = waiting.filter((waiter) => waiter.after >= number);
          for (const waiter of waiting) if (waiter.after < number) waiter.wake();
        },
        (error: Error) => res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`${error.message}\n`),
      );
    });
  }

  async listen(port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, resolve);
    });
    return this.server.address() as AddressInfo;
  }

  /** Resolves once a scrape that started after this call has been answered, or after `timeoutMs`. */
  nextScrape(timeoutMs: number): Promise<boolean> {
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        after: this.begun,
        wake: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
