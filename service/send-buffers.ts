/**
 * What waits in the instance's memory to be sent to each socket: Engine.IO's queue of packets not yet handed to the
 * WebSocket, plus the WebSocket's own `bufferedAmount` (written, not yet taken by the kernel). A client that does not
 * read (or reads too slowly for what it asks for) makes both grow; nothing else bounds them.
 *
 * Measured every second, and right after any large packet (a catch-up answer) is queued. A socket over its own bound,
 * or the largest ones while the instance's total is over its bound, are cut: their TCP connection is destroyed, which
 * frees what was queued at once. The client sees a dropped connection, reconnects and catches up from where it was.
 */
import type { Socket } from "socket.io";

/** An Engine.IO connection (what carries one Socket.IO socket). */
export type EngineConnection = Socket["conn"];

/** A packet at least this big is measured as soon as it is queued. */
const LARGE_PACKET = 64 * 1024;

interface Entry {
  bytes: number;
  checkQueued: boolean;
}

export interface SendBufferLimits {
  /** Per connection. */
  perSocket: number;
  /** Over all connections of the instance. */
  total: number;
}

export class SendBuffers {
  private readonly entries = new Map<EngineConnection, Entry>();
  private totalBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly limits: SendBufferLimits,
    /** Cuts a connection over a bound; it stops being tracked once it closes. */
    private readonly overflow: (
      conn: EngineConnection,
      reason: "send_buffer" | "send_buffers_total",
      bytes: number,
    ) => void,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** Bytes waiting for all tracked connections, as last measured. */
  get total(): number {
    return this.totalBytes;
  }

  track(conn: EngineConnection): void {
    const entry: Entry = { bytes: 0, checkQueued: false };
    this.entries.set(conn, entry);
    conn.on("packetCreate", (packet: { data?: unknown }) => {
      if (entry.checkQueued || !isLarge(packet.data)) return;
      entry.checkQueued = true;
      // After the packet is queued and flushed to the WebSocket (the same turn).
      queueMicrotask(() => {
        entry.checkQueued = false;
        if (this.entries.has(conn)) this.check(conn, entry);
      });
    });
    conn.once("close", () => {
      this.totalBytes -= entry.bytes;
      this.entries.delete(conn);
    });
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Measures every connection, then cuts those over their bound and, while the total is over its own, the largest. */
  sweep(): void {
    for (const [conn, entry] of this.entries) this.update(conn, entry);
    for (const [conn, entry] of [...this.entries]) {
      if (entry.bytes > this.limits.perSocket) this.overflow(conn, "send_buffer", entry.bytes);
    }
    if (this.totalBytes <= this.limits.total) return;
    const largest = [...this.entries].sort(([, a], [, b]) => b.bytes - a.bytes);
    let left = this.totalBytes;
    for (const [conn, entry] of largest) {
      if (left <= this.limits.total) break;
      left -= entry.bytes;
      this.overflow(conn, "send_buffers_total", entry.bytes);
    }
  }

  private check(conn: EngineConnection, entry: Entry): void {
    this.update(conn, entry);
    if (entry.bytes > this.limits.perSocket) this.overflow(conn, "send_buffer", entry.bytes);
    else if (this.totalBytes > this.limits.total) this.sweep();
  }

  private update(conn: EngineConnection, entry: Entry): void {
    const bytes = bufferedBytes(conn);
    this.totalBytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }
}

/** Bytes queued for a connection: Engine.IO's write buffer and the WebSocket's. */
export function bufferedBytes(conn: EngineConnection): number {
  const queued = (conn as unknown as { writeBuffer?: { data?: unknown }[] }).writeBuffer ?? [];
  let bytes = 0;
  for (const packet of queued) bytes += sizeOf(packet.data);
  const ws = (conn.transport as unknown as { socket?: { bufferedAmount?: number } }).socket;
  return bytes + (ws?.bufferedAmount ?? 0);
}

function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

function isLarge(data: unknown): boolean {
  return sizeOf(data) >= LARGE_PACKET;
}
