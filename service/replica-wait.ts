/**
 * Makes an acknowledgement mean "on the replica too": after a write, Redis's WAIT blocks until that many replicas
 * have everything this connection wrote (or the timeout passes). Memorystore replicates asynchronously, so without
 * it a failover can promote a replica that lacks the last acknowledged strokes (clients then heal the board, see
 * docs/protocol.md, but only if one of them held the stroke).
 *
 * WAIT blocks the whole connection, so waits are grouped: writers that finish while one WAIT is out share the next
 * one, which covers all their writes (group commit). A replica slower than the timeout does not stop the service:
 * the write is acknowledged anyway, and counted.
 */
export interface ReplicaWaitOptions {
  /** Sends `WAIT replicas timeoutMs` on the connection that made the writes; resolves with the replicas that have them. */
  wait(replicas: number, timeoutMs: number): Promise<number>;
  replicas: number;
  timeoutMs: number;
}

export class ReplicaWait {
  private current: Promise<number> | undefined;
  private queued: Promise<number> | undefined;
  /** Waits that ended with fewer replicas than asked for. */
  shortfalls = 0;

  constructor(private readonly options: ReplicaWaitOptions) {}

  /** Resolves once every write this connection made before the call is replicated, or the timeout passed. */
  replicated(): Promise<number> {
    // A WAIT already out may have been sent before this caller's write finished: the next one covers it for sure.
    if (!this.current) return (this.current = this.send());
    this.queued ??= this.current.then(
      () => this.promote(),
      () => this.promote(),
    );
    return this.queued;
  }

  private promote(): Promise<number> {
    this.queued = undefined;
    return (this.current = this.send());
  }

  private send(): Promise<number> {
    const { replicas, timeoutMs } = this.options;
    const sent = this.options.wait(replicas, timeoutMs).then((acknowledged) => {
      if (acknowledged < replicas) this.shortfalls += 1;
      return acknowledged;
    });
    const clear = () => {
      if (this.current === sent) this.current = undefined;
    };
    sent.then(clear, clear);
    return sent;
  }
}

/**
 * One {@link ReplicaWait} per primary: in a Redis Cluster each board's writes go to its shard's primary, on that
 * primary's connection, so WAIT must go there too (`wait(board, ...)` routes it), and the writers grouped behind one
 * WAIT are those of one primary.
 */
export class ShardedReplicaWait {
  private readonly byNode = new Map<string, ReplicaWait>();
  private retiredShortfalls = 0;

  constructor(
    private readonly options: {
      wait(board: string, replicas: number, timeoutMs: number): Promise<number>;
      nodeOf(board: string): string;
      replicas: number;
      timeoutMs: number;
    },
  ) {}

  /** WAITs that ended with fewer replicas than asked for, on every primary. */
  get shortfalls(): number {
    let sum = this.retiredShortfalls;
    for (const wait of this.byNode.values()) sum += wait.shortfalls;
    return sum;
  }

  replicated(board: string): Promise<number> {
    const node = this.options.nodeOf(board);
    let group = this.byNode.get(node);
    if (!group) {
      // Any board of this primary will do: WAIT covers everything the connection wrote.
      group = new ReplicaWait({
        wait: (count, ms) => this.options.wait(board, count, ms),
        replicas: this.options.replicas,
        timeoutMs: this.options.timeoutMs,
      });
      this.byNode.set(node, group);
      // Primaries come and go (failovers, resharding): keep the map to those seen lately.
      if (this.byNode.size > 64) {
        const [oldest] = this.byNode;
        if (oldest) {
          this.retiredShortfalls += oldest[1].shortfalls;
          this.byNode.delete(oldest[0]);
        }
      }
    }
    return group.replicated();
  }
}
