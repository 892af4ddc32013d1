/**
 * The startup self-check: before an instance reports ready, it exercises once, against the real Redis, each capability
 * the service relies on and no local test can prove of Memorystore (docs/local.md, "What only a real deploy shows"),
 * with tiny probe scripts on a scratch key of its own:
 *
 * - `eval-info`: EVAL of a script that calls `INFO replication` (the board scripts read the replication id there);
 * - `evalsha`: SCRIPT LOAD then EVALSHA (how node-redis runs every board script);
 * - `allow-oom`: a script with the `#!lua flags=allow-oom` shebang that writes (clears and reads run so);
 * - `sharded-pubsub`: SSUBSCRIBE to a scratch channel and SPUBLISH to it, the message received (the adapter's path);
 * - `wait`: WAIT for the replicas, when REDIS_WAIT_REPLICAS asks for them;
 * - `tls-identity`: which rule verified the server's certificate (connecting already proved one did).
 *
 * A capability Redis refuses (an error reply: unknown command, NOPERM, a script error) is logged once, as one line
 * naming it, and the instance stays unready, so Cloud Run never sends a revision traffic that would fail every write.
 * No fallback is taken: each capability is used on every write or broadcast, and none has a safe substitute inside
 * the service (reading the replication id outside the scripts would be one for `eval-info`; it belongs to the board
 * scripts). A transport failure (Redis unreachable meanwhile) is not a refusal: the check runs again until Redis
 * answers.
 */
import { connect, type PeerCertificate } from "node:tls";
import { randomBytes } from "node:crypto";
import { ErrorReply } from "redis";
import type { RedisConfig } from "./config";
import type { Logger } from "./logger";
import type { RedisBackend } from "./redis-cluster";
import { checkRedisServerIdentity } from "./redis-tls";

const CAPABILITIES = ["eval-info", "evalsha", "allow-oom", "sharded-pubsub", "wait", "tls-identity"] as const;
type Capability = (typeof CAPABILITIES)[number];

/** What the self-check needs of the Redis backend. */
type SelfCheckRedis = Pick<RedisBackend, "sendCommand" | "subscriber" | "wait">;

export interface SelfCheckOptions {
  redis: SelfCheckRedis;
  config: RedisConfig;
  /** Replicas each write waits for (REDIS_WAIT_REPLICAS); WAIT is exercised only when above 0. */
  waitReplicas: number;
  waitTimeoutMs: number;
  /** Names the scratch key and channel (one instance's never meet another's). */
  instanceId: string;
  logger: Logger;
  /** How long the published message may take to arrive. @default 3000 */
  receiveTimeoutMs?: number;
  /** Pause between runs after a transport failure. @default 1000 */
  retryMs?: number;
}

/** A capability Redis refused: an error reply, not a transport failure. */
class CapabilityRefused extends Error {
  constructor(
    readonly capability: Capability,
    readonly reason: string,
  ) {
    super(`${capability}: ${reason}`);
    this.name = "CapabilityRefused";
  }
}

const INFO_SCRIPT = "return string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)') or ''";
const ALLOW_OOM_SCRIPT = `#!lua flags=allow-oom
redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
return redis.call('GET', KEYS[1])`;

export class SelfCheck {
  private state: "pending" | "passed" | "refused" = "pending";
  private stopped = false;

  constructor(private readonly options: SelfCheckOptions) {}

  /** True once every capability answered; never after a refusal. */
  get passed(): boolean {
    return this.state === "passed";
  }

  get refused(): boolean {
    return this.state === "refused";
  }

  stop(): void {
    this.stopped = true;
  }

  /** Runs the probes until they pass or one is refused (retrying after transport failures); never rejects. */
  async run(): Promise<void> {
    const { logger, retryMs = 1_000 } = this.options;
    while (!this.stopped && this.state === "pending") {
      try {
        const identity = await this.probeAll();
        this.state = "passed";
        logger.info(
          {
            capabilities: CAPABILITIES.filter((capability) => capability !== "wait" || this.options.waitReplicas > 0),
            ...identity,
          },
          "redis self-check passed",
        );
      } catch (error) {
        if (error instanceof CapabilityRefused) {
          this.state = "refused";
          logger.error(
            { capability: error.capability, reason: error.reason },
            `redis refused ${error.capability}: this instance stays unready (the revision must not serve)`,
          );
          return;
        }
        logger.warn({ error: (error as Error).message }, "redis self-check could not run; trying again");
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  }

  private async probeAll(): Promise<{ tlsIdentity?: string }> {
    const { redis, instanceId } = this.options;
    // A hash tag: the key and the channel live in one slot, so on a cluster every probe goes to one primary.
    const tag = `{wb-self-check:${instanceId}}`;
    const key = `${tag}:key`;
    const nonce = randomBytes(8).toString("hex");
    try {
      const replid = await refusedAs("eval-info", redis.sendCommand(key, ["EVAL", INFO_SCRIPT, "1", key]));
      if (typeof replid !== "string" || replid === "")
        throw new CapabilityRefused(
          "eval-info",
          `INFO replication from a script gave no master_replid (${String(replid)})`,
        );
      const sha = String(await refusedAs("evalsha", redis.sendCommand(key, ["SCRIPT", "LOAD", INFO_SCRIPT])));
      await refusedAs("evalsha", redis.sendCommand(key, ["EVALSHA", sha, "1", key]));
      const written = await refusedAs("allow-oom", redis.sendCommand(key, ["EVAL", ALLOW_OOM_SCRIPT, "1", key, nonce]));
      if (written !== nonce) throw new CapabilityRefused("allow-oom", `the script read back ${String(written)}`);
      await this.shardedPubSub(`${tag}:channel`, nonce);
      if (this.options.waitReplicas > 0) {
        await refusedAs("wait", redis.wait(key, this.options.waitReplicas, this.options.waitTimeoutMs));
      }
      return await this.tlsIdentity();
    } finally {
      await redis.sendCommand(key, ["DEL", key]).catch(() => undefined);
    }
  }

  private async shardedPubSub(channel: string, nonce: string): Promise<void> {
    const { redis, receiveTimeoutMs = 3_000 } = this.options;
    let received: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await refusedAs(
      "sharded-pubsub",
      redis.subscriber.sSubscribe(
        channel,
        (message) => {
          if (message.toString() === nonce) received();
        },
        true,
      ),
    );
    try {
      await refusedAs("sharded-pubsub", redis.sendCommand(channel, ["SPUBLISH", channel, nonce]));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), receiveTimeoutMs)));
      const outcome = await Promise.race([arrived, late]);
      clearTimeout(timer);
      if (outcome === "late") {
        throw new CapabilityRefused(
          "sharded-pubsub",
          `SPUBLISH was accepted but SSUBSCRIBE received nothing in ${receiveTimeoutMs} ms`,
        );
      }
    } finally {
      await redis.subscriber.sUnsubscribe(channel).catch(() => undefined);
    }
  }

  /** Which rule of ./redis-tls.ts verified the server: its subject alternative names, or (none) its subject CN. */
  private async tlsIdentity(): Promise<{ tlsIdentity?: string }> {
    const { config } = this.options;
    if (!config.tls) return {};
    const url = new URL(config.url);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    let rule = "none";
    await new Promise<void>((resolve, reject) => {
      const socket = connect({
        host,
        port: Number(url.port || 6379),
        ca: config.caCert,
        // SNI only for a name; Memorystore is reached by IP address.
        ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }),
        checkServerIdentity: (name: string, cert: PeerCertificate) => {
          const refusal = checkRedisServerIdentity(name, cert);
          if (!refusal) rule = cert.subjectaltname ? "subject-alt-name" : "subject-common-name";
          return refusal;
        },
      });
      socket.setTimeout(3_000, () => socket.destroy(new Error("TLS handshake timed out")));
      socket.once("secureConnect", () => (socket.end(), resolve()));
      socket.once("error", (error: NodeJS.ErrnoException) =>
        error.code === "ERR_TLS_CERT_ALTNAME_INVALID"
          ? reject(new CapabilityRefused("tls-identity", error.message))
          : reject(error),
      );
    });
    return { tlsIdentity: rule };
  }
}

/** Redis's error reply to a probe becomes the refusal of `capability`; anything else (transport) passes through. */
async function refusedAs<T>(capability: Capability, pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof ErrorReply) throw new CapabilityRefused(capability, error.message);
    throw error;
  }
}
