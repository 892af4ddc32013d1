/**
 * IAM authentication to Redis (Memorystore for Redis Cluster with `authorization_mode = AUTH_MODE_IAM_AUTH`): the
 * client sends an OAuth access token of its principal as the AUTH password. On Cloud Run the principal is the
 * service's own account, and its tokens come from the metadata server, which every instance reaches without
 * credentials. A token lives about an hour; a connection authenticated with it stays authenticated after that, but
 * every new connection (a reconnect, a node discovered after a failover or a resharding) needs a token that is valid
 * now. So the token is kept fresh in the background, refreshed well before it expires, and each connection's
 * handshake reads the current one (node-redis calls the credentials provider at every handshake).
 *
 * No password is stored anywhere: the provider 6.50 resources of the clustered engines offer IAM or nothing, and an
 * access token is short-lived and tied to the account that IAM grants `roles/redis.dbConnectionUser`.
 */
import type { Logger } from "./logger";

/** Refresh this long before expiry (the metadata server hands out tokens with at least 5 minutes left). */
const REFRESH_BEFORE_MS = 10 * 60_000;
/** After a failed fetch, try again this soon. */
const RETRY_MS = 1_000;
const FETCH_TIMEOUT_MS = 3_000;
/** A token is handed to a handshake only while it has at least this long to live. */
const USABLE_FOR_MS = 2_000;

export interface AccessToken {
  value: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** The default service account's access token, as the metadata server serves it. */
export async function fetchAccessToken(metadataHost: string): Promise<AccessToken> {
  const response = await fetch(`http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/token`, {
    headers: { "Metadata-Flavor": "Google" },
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`metadata server answered ${response.status} for the access token`);
  const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
  if (typeof body.access_token !== "string" || typeof body.expires_in !== "number") {
    throw new Error("metadata server's token answer has no access_token or expires_in");
  }
  return { value: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
}

/** Keeps a valid access token in hand; `current()` is what each Redis handshake calls. */
export class AccessTokenSource {
  private token: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Tokens fetched so far (for tests and logs). */
  fetched = 0;

  constructor(
    private readonly fetchToken: () => Promise<AccessToken>,
    private readonly logger: Logger,
  ) {}

  /** A token valid for at least a little longer, fetched if need be. */
  async current(): Promise<string> {
    // A handshake takes milliseconds: a token with a couple of seconds left is still good for it.
    if (this.token && this.token.expiresAt - Date.now() > USABLE_FOR_MS) return this.token.value;
    return (await this.refresh()).value;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private refresh(): Promise<AccessToken> {
    this.pending ??= this.fetchToken().then(
      (token) => {
        this.pending = undefined;
        this.token = token;
        this.fetched += 1;
        this.logger.debug(
          { expiresInS: Math.round((token.expiresAt - Date.now()) / 1000) },
          "redis access token refreshed",
        );
        // Ten minutes before expiry, or halfway there when less is left (the metadata server may hand back the same
        // token until it is nearly expired; halving the wait each time never spins and never lets it lapse).
        const left = token.expiresAt - Date.now();
        this.schedule(Math.max(RETRY_MS, left - REFRESH_BEFORE_MS, left / 2));
        return token;
      },
      (error: Error) => {
        this.pending = undefined;
        this.logger.error({ error: error.message }, "cannot get an access token for Redis");
        this.schedule(RETRY_MS);
        throw error;
      },
    );
    return this.pending;
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh().catch(() => undefined), ms);
    this.timer.unref();
  }
}

/** node-redis's credentials provider: asked at every connection's handshake. */
export function iamCredentialsProvider(source: AccessTokenSource) {
  return {
    type: "async-credentials-provider" as const,
    credentials: async () => ({ password: await source.current() }),
  };
}
