/**
 * A WebSocket client made by hand on a plain TCP socket, for what a Socket.IO client never does: many frames packed
 * into one TCP write, frames the server never reads, a client that never reads what the server sends.
 */
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

export interface RawWebSocket {
  socket: Socket;
  /** Bytes received after the upgrade's response headers. */
  received(): number;
  /** Text frames received so far (only when `collect` was asked for). */
  frames: string[];
  /** Resolves when the TCP connection is closed, by either side. */
  closed: Promise<void>;
  /** One masked text frame per payload, all in one TCP write. */
  sendFrames(payloads: readonly string[]): void;
  /** Bytes made by {@link textFrames}, in one TCP write. */
  sendRaw(frames: Buffer): void;
  /** Stops reading the socket from now on. */
  pause(): void;
  close(): void;
}

export interface RawWebSocketOptions {
  /** Local address to connect from: any of 127.0.0.0/8 makes another client address on loopback. */
  localAddress?: string;
  headers?: Record<string, string>;
  /** Stop reading the socket after the upgrade (the server's send buffer then fills); see also `pause()`. */
  paused?: boolean;
  /** Decode and keep the server's text frames (small ones only: frames split across reads are reassembled). */
  collect?: boolean;
}

/** Opens `ws://<url>/socket.io/?EIO=4&transport=websocket` and resolves once upgraded (rejects on another status). */
export function openRawWebSocket(url: string, options: RawWebSocketOptions = {}): Promise<RawWebSocket> {
  const { hostname, port } = new URL(url);
  const socket = connect({
    host: hostname,
    port: Number(port),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const key = randomBytes(16).toString("base64");
  const headers = {
    host: `${hostname}:${port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": key,
    "sec-websocket-version": "13",
    ...options.headers,
  };
  let bytes = 0;
  let upgraded = false;
  let pending = Buffer.alloc(0);
  const frames: string[] = [];
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const client: RawWebSocket = {
    socket,
    received: () => bytes,
    frames,
    closed,
    sendFrames: (payloads) => socket.write(textFrames(payloads)),
    sendRaw: (frames) => socket.write(frames),
    pause: () => socket.pause(),
    close: () => socket.destroy(),
  };
  return new Promise((resolve, reject) => {
    // A reset from the server is one way of being closed; "close" follows.
    socket.on("error", reject);
    socket.once("connect", () => {
      socket.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n${Object.entries(headers)
          .map(([n, v]) => `${n}: ${v}`)
          .join("\r\n")}\r\n\r\n`,
      );
    });
    socket.on("data", (chunk: Buffer) => {
      if (upgraded) {
        bytes += chunk.length;
        if (options.collect) pending = readFrames(Buffer.concat([pending, chunk]), frames);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = pending.subarray(0, end).toString();
      const rest = pending.subarray(end + 4);
      pending = Buffer.alloc(0);
      if (!head.startsWith("HTTP/1.1 101")) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split("\r\n")[0]} ${rest.toString()}`));
        return;
      }
      upgraded = true;
      bytes += rest.length;
      if (options.collect) pending = readFrames(rest, frames);
      if (options.paused) socket.pause();
      resolve(client);
    });
  });
}

/** Masked text frames, one per payload, ready to send (made ahead: 8,000 frames take a while on a busy machine). */
export function textFrames(payloads: readonly string[]): Buffer {
  return Buffer.concat(payloads.map(maskedTextFrame));
}

const MASK = randomBytes(4);

function maskedTextFrame(payload: string): Buffer {
  const data = Buffer.from(payload);
  // The same mask for every frame: servers do not check it (it protects proxies from browser-made bytes).
  const mask = MASK;
  const length = data.length;
  const header =
    length < 126
      ? Buffer.from([0x81, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x81, 0x80 | 126, length >> 8, length & 255])
        : undefined;
  if (!header) throw new Error("frames over 64 KiB are not needed here");
  for (let i = 0; i < length; i++) data[i] = (data[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([header, mask, data]);
}

/** Appends complete unmasked frames' text to `into`; returns what is left of an incomplete one. */
function readFrames(buffer: Buffer, into: string[]): Buffer {
  let offset = 0;
  while (buffer.length - offset >= 2) {
    let length = (buffer[offset + 1] as number) & 127;
    let start = offset + 2;
    if (length === 126) {
      if (buffer.length - offset < 4) break;
      length = buffer.readUInt16BE(offset + 2);
      start = offset + 4;
    } else if (length === 127) {
      if (buffer.length - offset < 10) break;
      length = Number(buffer.readBigUInt64BE(offset + 2));
      start = offset + 10;
    }
    if (buffer.length < start + length) break;
    if (((buffer[offset] as number) & 15) === 1) into.push(buffer.subarray(start, start + length).toString());
    offset = start + length;
  }
  return buffer.subarray(offset);
}
