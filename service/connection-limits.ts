/**
 * What one instance, and one client address, may hold open, enforced before any handler, timer or log line is made
 * for a connection:
 * - a WebSocket is admitted (Engine.IO's `allowRequest`, before the upgrade is accepted) only while the instance has
 *   fewer than MAX_SOCKETS and its client address fewer than MAX_SOCKETS_PER_ADDRESS; each counts until its TCP
 *   connection closes; and an address is admitted CONNECTIONS_PER_ADDRESS_PER_SECOND connections
 *   (CONNECTIONS_PER_ADDRESS_BURST at once), so a client looping connections (each costs a handshake, a join, a read
 *   and a subscription) is held to that rate however few it keeps open;
 * - one Socket.IO socket per WebSocket: a second CONNECT on one connection (several can be packed into one TCP write
 *   and would all be accepted before the first completes) cuts the connection before Socket.IO decodes the packet;
 * - a connection that opens no socket, and a socket that joins no board, within JOIN_TIMEOUT_SECONDS is closed;
 * - a socket whose send buffers (in the process and the kernel's send queue) grow past MAX_SEND_BUFFER_BYTES, or the
 *   largest ones while all of them together pass MAX_SEND_BUFFER_TOTAL_BYTES, are cut (./send-buffers.ts); the client
 *   reconnects and catches up;
 * - the sockets of one address share budgets of stroke bytes and catch-up bytes ({@link AddressBudget}), on top of
 *   each socket's own: more sockets do not buy an address more traffic.
 *
 * Every refusal and cut is counted in the metrics and logged with the client address (./client-address.ts), in a
 * bounded number of lines however many there are (./sampled-log.ts).
 */
import type { IncomingMessage } from "node:http";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Socket } from "socket.io";
import { addressKey, clientAddress } from "./client-address";
import type { ConnectionConfig, Rate } from "./config";
import type { Logger } from "./logger";
import { SampledLog } from "./sampled-log";
import { SendBuffers, type EngineConnection } from "./send-buffers";
import { TokenBucket } from "./token-bucket";

/** What all sockets of one client address on this instance may write and read together, in bytes. */
export interface AddressBudget {
  readonly writeBytes: TokenBucket;
  readonly readBytes: TokenBucket;
}

export interface AddressRates {
  writeBytes: Rate;
  readBytes: Rate;
}

const REFUSAL_REASONS = ["instance_full", "address_full", "address_rate", "origin"] as const;
const CUT_REASONS = ["second_socket", "join_timeout", "send_buffer", "send_buffers_total"] as const;
type RefusalReason = (typeof REFUSAL_REASONS)[number];
type CutReason = (typeof CUT_REASONS)[number];

const REFUSAL_MESSAGES: Record<RefusalReason, string> = {
  instance_full: "this instance holds its maximum of connections; retry shortly",
  address_full: "too many connections from your address; close some and retry",
  address_rate: "connecting too often from your address; retry in a few seconds",
  origin: "origin not allowed",
};

/** How long a connection the service closed may take to answer the closing handshake before it is cut. */
const CLOSE_GRACE_MS = 2_000;
/** WebSocket.CLOSED */
const CLOSED = 3;

/** The `ws` WebSocket under an Engine.IO connection (the only transport allowed here). */
interface RawWebSocket {
  readonly readyState: number;
  terminate(): void;
  once(event: "close", listener: () => void): unknown;
}

function webSocketOf(conn: EngineConnection): RawWebSocket | undefined {
  const socket = (conn.transport as unknown as { socket?: Partial<RawWebSocket> }).socket;
  return typeof socket?.terminate === "function" ? (socket as RawWebSocket) : undefined;
}

export class ConnectionLimits {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly addresses = new WeakMap<IncomingMessage, string>();
  private readonly counted = new WeakSet<object>();
  private readonly sendBuffers: SendBuffers;
  private readonly log: SampledLog;
  private readonly refusals?: Counter<"reason">;
  private readonly cuts?: Counter<"reason">;
  /** Per address key, with when it was last handed out: kept after its sockets close, until it has refilled. */
  private readonly budgets = new Map<string, { budget: AddressBudget; usedAt: number }>();
  /** Admissions per address key, kept until the bucket is full again. */
  private readonly admissions = new Map<string, { bucket: TokenBucket; usedAt: number }>();
  private readonly budgetSweep: NodeJS.Timeout;

  constructor(
    private readonly config: ConnectionConfig,
    logger: Logger,
    registry?: Registry,
    private readonly rates?: AddressRates,
  ) {
    this.log = new SampledLog(logger);
    // A budget is dropped once it would be full again anyway: reconnecting does not refill it sooner.
    const refillMs = rates
      ? 1_000 *
        Math.max(rates.writeBytes.burst / rates.writeBytes.perSecond, rates.readBytes.burst / rates.readBytes.perSecond)
      : 0;
    const admissionsRefillMs = (1_000 * config.connectRate.burst) / config.connectRate.perSecond;
    this.budgetSweep = setInterval(() => {
      const now = Date.now();
      for (const [key, entry] of this.budgets)
        if (!this.perAddress.has(key) && now - entry.usedAt > refillMs) this.budgets.delete(key);
      for (const [key, entry] of this.admissions)
        if (now - entry.usedAt > admissionsRefillMs) this.admissions.delete(key);
    }, 10_000);
    this.budgetSweep.unref();
    this.sendBuffers = new SendBuffers(
      { perSocket: config.sendBufferBytes, total: config.sendBufferTotalBytes },
      (conn, reason, held) => this.cut(conn, reason, { ...held }),
    );
    if (registry) {
      this.refusals = new Counter({
        name: "whiteboard_connections_refused_total",
        help: "WebSockets refused before they were accepted, by reason (instance_full, address_full, address_rate, origin)",
        labelNames: ["reason"] as const,
        registers: [registry],
      });
      this.cuts = new Counter({
        name: "whiteboard_connections_cut_total",
        help: "Connections closed by the service, by reason (second_socket, join_timeout, send_buffer, send_buffers_total)",
        labelNames: ["reason"] as const,
        registers: [registry],
      });
      for (const reason of REFUSAL_REASONS) this.refusals.inc({ reason }, 0);
      for (const reason of CUT_REASONS) this.cuts.inc({ reason }, 0);
      const sendBuffers = this.sendBuffers;
      new Gauge({
        name: "whiteboard_send_buffer_bytes",
        help: "Bytes waiting to be sent to this instance's sockets, as last measured (at least every second), by where: process (Engine.IO's queues, the sockets' buffers) or kernel (the TCP send queues)",
        labelNames: ["where"] as const,
        registers: [registry],
        collect() {
          const { bytes, kernel } = sendBuffers.total;
          this.set({ where: "process" }, bytes - kernel);
          this.set({ where: "kernel" }, kernel);
        },
      });
    }
  }

  /** The client address of a request (see ./client-address.ts), worked out once per request. */
  addressOf(req: IncomingMessage): string {
    let address = this.addresses.get(req);
    if (address === undefined) {
      address = clientAddress(req, this.config.clientAddressHop);
      this.addresses.set(req, address);
    }
    return address;
  }

  /** The budgets shared by every socket of the request's client address (undefined without rates). */
  budgetOf(req: IncomingMessage): AddressBudget | undefined {
    if (!this.rates) return undefined;
    const key = addressKey(this.addressOf(req));
    let entry = this.budgets.get(key);
    if (!entry) {
      const bucket = (rate: Rate) => new TokenBucket(rate.perSecond, rate.burst);
      entry = {
        budget: { writeBytes: bucket(this.rates.writeBytes), readBytes: bucket(this.rates.readBytes) },
        usedAt: 0,
      };
      this.budgets.set(key, entry);
    }
    entry.usedAt = Date.now();
    return entry.budget;
  }

  /** WebSockets open now, on the instance and from one address. */
  get counts(): { open: number; addresses: number } {
    return { open: this.open, addresses: this.perAddress.size };
  }

  /**
   * Engine.IO's `allowRequest`, for a WebSocket handshake: undefined admits it (and counts it until its TCP connection
   * closes), a message refuses it (the client gets an HTTP error and retries later, with backoff).
   */
  admit(req: IncomingMessage, originAllowed: boolean): string | undefined {
    const address = this.addressOf(req);
    const key = addressKey(address);
    const fromAddress = this.perAddress.get(key) ?? 0;
    const reason: RefusalReason | undefined = !originAllowed
      ? "origin"
      : this.open >= this.config.maxSockets
        ? "instance_full"
        : fromAddress >= this.config.maxSocketsPerAddress
          ? "address_full"
          : !this.admissionAllowed(key)
            ? "address_rate"
            : undefined;
    if (reason) {
      this.refusals?.inc({ reason });
      const fields =
        reason === "origin"
          ? { origin: req.headers.origin }
          : reason === "instance_full"
            ? { open: this.open }
            : reason === "address_rate"
              ? { perSecond: this.config.connectRate.perSecond }
              : { open: fromAddress };
      this.log.warn(reason, { address, ...fields }, `connection refused: ${reason.replace("_", " ")}`);
      return REFUSAL_MESSAGES[reason];
    }
    const tcp = req.socket;
    if (this.counted.has(tcp) || tcp.destroyed) return undefined;
    this.counted.add(tcp);
    this.open += 1;
    this.perAddress.set(key, fromAddress + 1);
    tcp.once("close", () => {
      this.open -= 1;
      const left = (this.perAddress.get(key) ?? 1) - 1;
      if (left > 0) this.perAddress.set(key, left);
      else this.perAddress.delete(key);
    });
    return undefined;
  }

  /** Takes a token from the address's admissions; false when it has none left. */
  private admissionAllowed(key: string): boolean {
    let entry = this.admissions.get(key);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.config.connectRate.perSecond, this.config.connectRate.burst), usedAt: 0 };
      this.admissions.set(key, entry);
    }
    entry.usedAt = Date.now();
    return entry.bucket.take();
  }

  /**
   * Engine.IO's `connection`: at most one Socket.IO CONNECT on it, ever; its send buffer watched; its TCP connection
   * gone soon after the service closes it.
   */
  watchConnection(conn: EngineConnection): void {
    const ws = webSocketOf(conn);
    // A WebSocket closed by the service waits up to 30 s for the peer's closing frame, still holding its buffers and
    // its place in the counts; a browser answers at once, a hostile client never.
    conn.once("close", () => {
      if (!ws || ws.readyState === CLOSED) return;
      const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      timer.unref();
      ws.once("close", () => clearTimeout(timer));
    });
    let connects = 0;
    conn.on("packet", (packet: { type: string; data?: unknown }) => {
      // A Socket.IO packet travels as an Engine.IO "message"; CONNECT is Socket.IO's packet type 0.
      if (packet.type !== "message" || typeof packet.data !== "string" || packet.data.charCodeAt(0) !== 48) return;
      connects += 1;
      // Cut before Socket.IO sees it: its "data" event comes after "packet", and a closed connection drops the rest.
      if (connects > 1) this.cut(conn, "second_socket", {});
    });
    this.sendBuffers.track(conn);
  }

  /** Socket.IO's `connection`: a socket that has not joined a board within the join timeout is closed. */
  watchSocket(socket: Socket): void {
    const timer = setTimeout(() => {
      if ((socket.data as { board?: unknown }).board !== undefined) return;
      this.count("join_timeout", socket.conn, {});
      socket.disconnect(true);
    }, this.config.joinTimeoutMs);
    timer.unref();
    socket.once("disconnect", () => clearTimeout(timer));
  }

  close(): void {
    this.sendBuffers.close();
    clearInterval(this.budgetSweep);
  }

  /** Closes a connection at once, dropping whatever was queued for it. */
  private cut(conn: EngineConnection, reason: CutReason, fields: Record<string, unknown>): void {
    if (conn.readyState === "closed") return;
    this.count(reason, conn, fields);
    const ws = webSocketOf(conn);
    conn.close(true);
    // Not even a closing handshake: the TCP connection goes now, and what was queued for it with it.
    ws?.terminate();
  }

  private count(reason: CutReason, conn: EngineConnection, fields: Record<string, unknown>): void {
    this.cuts?.inc({ reason });
    this.log.warn(
      reason,
      { address: this.addressOf(conn.request), ...fields },
      `connection closed: ${reason.replace(/_/g, " ")}`,
    );
  }
}
