/**
 * The local stand-in for the metadata server a Cloud Run instance asks for its service account's access token
 * (`GET /computeMetadata/v1/instance/service-accounts/default/token` with `Metadata-Flavor: Google`), for IAM
 * authentication to a Redis Cluster. Like the real one it hands back the same token until it is well into its life,
 * then a new one; each token it issues is announced to `onIssue` (the local cluster makes it a valid AUTH password
 * until it expires: see ./redis-cluster.ts), so an expired token really stops opening connections.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface MetadataServerOptions {
  /** Each token's lifetime. Google's are about an hour; tests use seconds. @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Told of each new token and when it expires (epoch ms). */
  onIssue?(token: string, expiresAt: number): void | Promise<void>;
}

export class MetadataServer {
  private server: Server | undefined;
  private token: { value: string; expiresAt: number } | undefined;
  private issuing: Promise<void> | undefined;
  /** Tokens issued so far, and requests answered. */
  readonly stats = { issued: 0, requests: 0 };
  /** Every token issued, oldest first. */
  readonly tokens: { value: string; expiresAt: number }[] = [];

  constructor(private readonly options: MetadataServerOptions = {}) {}

  /** `host:port`, as GCE_METADATA_HOST takes it. */
  get host(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error("the metadata server has not been started");
    return `127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    const lifetimeMs = (this.options.tokenLifetimeSeconds ?? 3600) * 1000;
    this.server = createServer((request, response) => {
      void (async () => {
        this.stats.requests += 1;
        if (
          request.url !== "/computeMetadata/v1/instance/service-accounts/default/token" ||
          request.headers["metadata-flavor"] !== "Google"
        ) {
          response.writeHead(request.headers["metadata-flavor"] === "Google" ? 404 : 403).end();
          return;
        }
        // A new token once the current one has used three quarters of its life (the real server keeps one cached
        // until shortly before it expires).
        if (!this.token || this.token.expiresAt - Date.now() < lifetimeMs / 4) {
          // One issue at a time: requests that arrive meanwhile get the same new token.
          this.issuing ??= (async () => {
            const value = `ya29.local-${randomBytes(24).toString("base64url")}`;
            const expiresAt = Date.now() + lifetimeMs;
            await this.options.onIssue?.(value, expiresAt);
            this.token = { value, expiresAt };
            this.tokens.push(this.token);
            this.stats.issued += 1;
          })().finally(() => (this.issuing = undefined));
          await this.issuing;
        }
        if (!this.token) throw new Error("no token");
        const expiresIn = Math.floor((this.token.expiresAt - Date.now()) / 1000);
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ access_token: this.token.value, expires_in: expiresIn, token_type: "Bearer" }));
      })().catch(() => response.writeHead(500).end());
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
