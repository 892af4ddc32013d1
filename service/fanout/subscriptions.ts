/**
 * The board adapter's subscriptions, guarded: node-redis registers a channel's listener only once its SSUBSCRIBE
 * succeeds, so one that fails (a command timeout while Redis is away, a cluster client not yet connected, a node
 * failing over) would leave that board deaf on this instance for as long as the room lives, and an unhandled rejection
 * besides. The guard retries it until it succeeds or the channel is no longer wanted. @socket.io/redis-adapter 8.3.0
 * makes these calls without waiting for or catching them (docs/upstream/redis-adapter-fire-and-forget-ssubscribe.md);
 * the adapter here (./board-adapter.ts) calls only the guarded subscriber.
 */
import type { Logger } from "../logger";
import type { SubscribeClient } from "./pubsub";

/** How soon a failed SSUBSCRIBE is tried again (while its room still exists). */
const RESUBSCRIBE_MS = 250;
/** A subscription still failing after this long is logged. */
const WARN_AFTER_MS = 5_000;

type Listener = (message: Buffer, channel: Buffer) => void;

export interface GuardedSubscriber extends SubscribeClient {
  /** Settles once `channel`'s subscription is made (at once if it is not wanted or already made). Never rejects. */
  subscribed(channel: string): Promise<void>;
}

/**
 * The subscriber as the adapter sees it: `sSubscribe` is retried until it succeeds, for as long as the channel is
 * still wanted (its room exists), and never rejects; `sUnsubscribe` never rejects either (a failed one changes
 * nothing that matters: the node drops a connection's subscriptions when it closes, and a message for a room this
 * instance left finds no socket). Same listener each retry, so node-redis (which keeps listeners in a Set) never
 * delivers a message twice.
 */
export function guardSubscriptions(
  client: SubscribeClient,
  logger: Logger,
  retryMs = RESUBSCRIBE_MS,
): GuardedSubscriber {
  const wanted = new Map<string, Listener>();
  /** Channels wanted but not subscribed yet, each with what settles its `subscribed` promise. */
  const pending = new Map<string, { done: Promise<void>; settle: () => void }>();
  const settle = (channel: string) => {
    pending.get(channel)?.settle();
    pending.delete(channel);
  };
  /** Channels whose subscription is failing, and since when. */
  const failing = new Map<string, { since: number; warned: boolean }>();
  const subscribe = (channel: string, listener: Listener) => {
    // The executor runs at once; a client that throws rather than rejects (a cluster before its discovery) rejects it.
    const attempt = new Promise<unknown>((resolve) => resolve(client.sSubscribe(channel, listener, true)));
    attempt.then(
      () => {
        if (failing.get(channel)?.warned) logger.info({ channel }, "redis subscription made after retries");
        failing.delete(channel);
        if (wanted.get(channel) === listener) settle(channel);
      },
      (error: unknown) => {
        if (wanted.get(channel) !== listener) return;
        // Quiet while Redis is still being reached (a cluster client fails at once until its first discovery).
        const state = failing.get(channel) ?? { since: Date.now(), warned: false };
        failing.set(channel, state);
        if (!state.warned && Date.now() - state.since >= WARN_AFTER_MS) {
          state.warned = true;
          logger.warn({ channel, error: (error as Error).message }, "redis subscription failing; retrying");
        }
        setTimeout(() => {
          if (wanted.get(channel) === listener) subscribe(channel, listener);
        }, retryMs).unref();
      },
    );
  };
  return {
    sSubscribe(channel, listener) {
      wanted.set(channel, listener);
      if (!pending.has(channel)) {
        let settleDone!: () => void;
        const done = new Promise<void>((resolve) => (settleDone = resolve));
        pending.set(channel, { done, settle: settleDone });
      }
      subscribe(channel, listener);
      return Promise.resolve();
    },
    subscribed: (channel) => pending.get(channel)?.done ?? Promise.resolve(),
    sUnsubscribe(channel) {
      wanted.delete(channel);
      failing.delete(channel);
      settle(channel);
      const attempt = new Promise<unknown>((resolve) => resolve(client.sUnsubscribe(channel)));
      return attempt.catch((error: unknown) =>
        logger.debug({ channel, error: (error as Error).message }, "redis unsubscribe failed"),
      );
    },
  };
}
