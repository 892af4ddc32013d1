/**
 * Makes an acknowledgement mean "on the replica too": after a write, Redis's WAIT blocks until that many replicas
 * have everything this connection wrote (or the timeout passes). Memorystore replicates asynchronously, so without
 * it a failover can promote a replica that lacks the last acknowledged strokes (clients then heal the board, see
 * README, but only if one of them held the stroke).
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
