/**
 * What the fan-out needs of Redis (one Redis or a cluster: ../redis-cluster.ts makes both from node-redis's clients).
 */

/** Publishes with SPUBLISH; counts a channel's subscribers with PUBSUB SHARDNUMSUB, summed over every primary. */
export interface Publisher {
  sPublish(channel: string, message: string): Promise<unknown>;
  shardSubscribers(channel: string): Promise<number>;
}

/** Subscribes with SSUBSCRIBE (its own connection: a subscribed connection takes no other command). */
export interface SubscribeClient {
  sSubscribe(channel: string, listener: (message: Buffer, channel: Buffer) => void, buffers: true): Promise<unknown>;
  sUnsubscribe(channel: string): Promise<unknown>;
}
