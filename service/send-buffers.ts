/**
 * What waits to be sent to each connection, in the process and in the kernel: Engine.IO's queue of packets not yet
 * handed to the WebSocket, the TCP socket's buffer (written, not yet taken by the kernel), and the kernel's send queue
 * (taken, not yet acknowledged by the peer; ./kernel-queues.ts). A client that does not read, or reads too slowly for
 * what it asks for, makes all three grow; nothing else bounds them.
 *
 * Engine.IO's queue is counted as packets are queued and flushed, the TCP socket's buffer read when needed, and the
 * kernel's queue taken as its last reading plus what the socket handed the kernel since (an upper bound: the peer may
 * have acknowledged some); the queues are read again once that estimate comes near a bound, and before any connection is cut.
 * Checked every second, and as soon as any large packet (a catch-up answer) is
 * queued: a connection over its own bound, or the largest ones while the instance's total is over its bound, are cut:
 * their TCP connection is destroyed, which frees what was queued at once, in the process and in the kernel. The client
 * sees a dropped connection, reconnects and catches up from where it was.
 *
 * A broadcast's packet is one string shared by every socket it is queued for, counted once per socket: the count is
 * what the queues would hold if each were the only one, an upper bound of what they hold together.
 */
import type { Socket as TcpSocket } from "node:net";
import type { Socket } from "socket.io";
import { peerKey, sendQueues } from "./kernel-queues";

/** An Engine.IO connection (what carries one Socket.IO socket). */
export type EngineConnection = Socket["conn"];

/** A packet at least this big is measured as soon as it is queued. */
const LARGE_PACKET = 64 * 1024;
/** The kernel's queues are read at most this often. */
const KERNEL_READING_MS = 100;

interface Entry {
  tcp: TcpSocket;
  /** Bytes of packets in Engine.IO's queue. */
  queued: number;
  /** The kernel's send queue, as last read, and the bytes the socket had handed the kernel then. */
  kernel: number;
  dispatchedAtReading: number;
  /** Its peer, to find its kernel queue; undefined once the socket has no address (closing). */
  peer: string | undefined;
  checkQueued: boolean;
}

export interface SendBufferLimits {
  /** Per connection. */
  perSocket: number;
  /** Over all connections of the instance. */
  total: number;
}

export type OverflowReason = "send_buffer" | "send_buffers_total";

/** What a connection holds, for the log line of its cut. */
export interface HeldBytes {
  /** In the process (Engine.IO's queue and the TCP socket's buffer) and in the kernel's send queue. */
  bufferedBytes: number;
  /** Of which in the kernel. */
  kernelBytes: number;
}

export class SendBuffers {
  private readonly entries = new Map<EngineConnection, Entry>();
  private readonly timer: NodeJS.Timeout;
  private lastTotal = 0;
  private lastKernel = 0;
  private kernelReadAt = -Infinity;

  constructor(
    private readonly limits: SendBufferLimits,
    /** Cuts a connection over a bound; it stops being tracked once it closes. */
    private readonly overflow: (conn: EngineConnection, reason: OverflowReason, held: HeldBytes) => void,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** Bytes waiting for all tracked connections, as last measured: in all, and of which in the kernel. */
  get total(): { bytes: number; kernel: number } {
    return { bytes: this.lastTotal, kernel: this.lastKernel };
  }

  track(conn: EngineConnection): void {
    const tcp = conn.request.socket;
    const entry: Entry = {
      tcp,
      queued: 0,
      kernel: 0,
      dispatchedAtReading: dispatched(tcp),
      peer: tcp.remoteAddress && tcp.remotePort ? peerKey(tcp.remoteAddress, tcp.remotePort) : undefined,
      checkQueued: false,
    };
    this.entries.set(conn, entry);
    conn.on("packetCreate", (packet: { data?: unknown }) => {
      const size = sizeOf(packet.data);
      entry.queued += size;
      if (entry.checkQueued || size < LARGE_PACKET) return;
      entry.checkQueued = true;
      // After the packet is queued and flushed to the WebSocket (the same turn).
      queueMicrotask(() => {
        entry.checkQueued = false;
        if (this.entries.has(conn)) this.check(conn, entry);
      });
    });
    conn.on("flush", (packets: { data?: unknown }[]) => {
      for (const packet of packets) entry.queued -= sizeOf(packet.data);
    });
    conn.once("close", () => this.entries.delete(conn));
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Measures every connection, then cuts those over their bound and, while the total is over its own, the largest. */
  sweep(): void {
    if (this.kernelReadingNeeded()) this.readKernelQueues();
    for (const [conn, entry] of [...this.entries]) this.enforcePerSocket(conn, entry);
    this.enforceTotal();
  }

  /**
   * Whether the estimates (the last kernel reading plus what was handed to the kernel since) come near a bound: only
   * then is reading the kernel's queues worth its cost (the kernel lists every socket of the machine's network).
   */
  private kernelReadingNeeded(): boolean {
    let total = 0;
    for (const entry of this.entries.values()) {
      const bytes = bytesOf(entry);
      if (bytes > this.limits.perSocket / 2) return true;
      total += bytes;
    }
    return total > this.limits.total / 2;
  }

  /** Reads the kernel's queues unless they were read within the last KERNEL_READING_MS. */
  private readKernelQueues(): void {
    const now = performance.now();
    if (now - this.kernelReadAt < KERNEL_READING_MS) return;
    this.kernelReadAt = now;
    const ports = new Set<number>();
    for (const entry of this.entries.values()) if (entry.tcp.localPort) ports.add(entry.tcp.localPort);
    const queues = sendQueues(ports);
    for (const entry of this.entries.values()) {
      entry.kernel = (entry.peer && queues.get(entry.peer)) || 0;
      entry.dispatchedAtReading = dispatched(entry.tcp);
    }
  }

  private check(conn: EngineConnection, entry: Entry): void {
    if (!this.enforcePerSocket(conn, entry)) this.enforceTotal();
  }

  /** Cuts the connection if it is over its bound, by a fresh reading of the kernel's queues; true if it was. */
  private enforcePerSocket(conn: EngineConnection, entry: Entry): boolean {
    if (bytesOf(entry) <= this.limits.perSocket) return false;
    this.readKernelQueues();
    if (bytesOf(entry) <= this.limits.perSocket) return false;
    this.cutFor(conn, entry, "send_buffer");
    return true;
  }

  private enforceTotal(): void {
    if (this.sum() > this.limits.total) this.readKernelQueues();
    const measured = [...this.entries].map(([conn, entry]) => ({ conn, entry, bytes: bytesOf(entry) }));
    let left = measured.reduce((sum, { bytes }) => sum + bytes, 0);
    this.lastTotal = left;
    this.lastKernel = measured.reduce((sum, { entry }) => sum + kernelOf(entry), 0);
    if (left <= this.limits.total) return;
    for (const { conn, entry, bytes } of measured.sort((a, b) => b.bytes - a.bytes)) {
      if (left <= this.limits.total) break;
      left -= bytes;
      this.cutFor(conn, entry, "send_buffers_total");
    }
  }

  private sum(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += bytesOf(entry);
    return total;
  }

  private cutFor(conn: EngineConnection, entry: Entry, reason: OverflowReason): void {
    const held = { bufferedBytes: bytesOf(entry), kernelBytes: kernelOf(entry) };
    // Gone from the counts now: its TCP connection is destroyed, and with it what it held.
    this.entries.delete(conn);
    this.overflow(conn, reason, held);
  }
}

/** Bytes the socket has handed the kernel so far. */
function dispatched(tcp: TcpSocket): number {
  return (tcp.bytesWritten ?? 0) - tcp.writableLength;
}

function kernelOf(entry: Entry): number {
  return entry.kernel + dispatched(entry.tcp) - entry.dispatchedAtReading;
}

function bytesOf(entry: Entry): number {
  return entry.queued + entry.tcp.writableLength + kernelOf(entry);
}

function sizeOf(data: unknown): number {
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
