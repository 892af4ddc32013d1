/**
 * Sends JSON text that is already serialized (strokes as Redis stores them) inside a Socket.IO packet
 * without parsing it only to stringify it again. A late joiner's board of 100,000 strokes is about 20 MB
 * of JSON: parsing and re-serializing it on the server would cost most of a second.
 *
 * The wire format does not change: clients decode the packet with the standard parser. Only this server's
 * encoder learns to splice `RawJson` values into the packet text.
 */
import { randomBytes } from "node:crypto";
import { Decoder, Encoder } from "socket.io-parser";

export class RawJson {
  /** `json` must be valid JSON text; it goes onto the wire as is. */
  constructor(readonly json: string) {}
}

/**
 * A placeholder no payload can contain: strings from clients are checked against patterns without control
 * characters, and the marker holds a random nonce besides. NUL is serialized as the six characters `\u0000`.
 */
const NONCE = randomBytes(8).toString("hex");
const MARKER = `\u0000raw-json:${NONCE}:`;
const SERIALIZED_MARKER = new RegExp(`"\\\\u0000raw-json:${NONCE}:(\\d+)"`, "g");

/** The raw texts of the packet being encoded. Encoding is synchronous, so one packet uses it at a time. */
let pending: string[] = [];

function replacer(_key: string, value: unknown): unknown {
  return value instanceof RawJson ? `${MARKER}${pending.push(value.json) - 1}` : value;
}

class RawJsonEncoder extends Encoder {
  constructor() {
    super(replacer);
  }

  override encode(packet: Parameters<Encoder["encode"]>[0]): ReturnType<Encoder["encode"]> {
    pending = [];
    const encoded = super.encode(packet);
    const raw = pending;
    pending = [];
    if (raw.length === 0) return encoded;
    return encoded.map((part: unknown) =>
      typeof part === "string"
        ? part.replace(SERIALIZED_MARKER, (_match, index: string) => raw[Number(index)] as string)
        : part,
    );
  }
}

/** Socket.IO's `parser` option. */
export const rawJsonParser = { Encoder: RawJsonEncoder, Decoder };
