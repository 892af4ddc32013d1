/**
 * Who is at the other end of a request, and the origin it reached, as the platform in front of the service reports
 * them. On Cloud Run the TCP peer is always Google's front end, so the client is known only from X-Forwarded-For.
 *
 * Everything a client sends in X-Forwarded-For comes first and proves nothing; only entries that the platform
 * appended, counted from the right, can be trusted (docs/limits.md):
 * - Cloud Run reached at its run.app URL appends the address that connected to it: the client is the last entry
 *   (CLIENT_ADDRESS_HOP=1, the stacks' setting without the load balancer);
 * - the global external Application Load Balancer appends two: the client's address, then its own forwarding rule's
 *   ("<client>,<load balancer>", Google's documentation): the client is the second-to-last (CLIENT_ADDRESS_HOP=2,
 *   the stacks' setting with the load balancer, which then is the only way in).
 * Behind the load balancer Cloud Run has been seen (2022) to append the client once more ("<client>,<lb>,<client>").
 * That shape is recognised, the last entry repeating the one `hop` places before it, and the last entry is taken:
 * where Cloud Run does not do this, a client can only produce the shape by sending the load balancer's own address,
 * and then counts as that address, shared with everyone else who tries it.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";

/** The client address of a request: an IPv4 address, an IPv6 address, or the TCP peer's when none can be trusted. */
export function clientAddress(req: IncomingMessage, hop: number): string {
  const peer = normalize(req.socket.remoteAddress ?? "") ?? "unknown";
  if (hop === 0) return peer;
  const header = req.headers["x-forwarded-for"];
  const text = Array.isArray(header) ? header.join(",") : header;
  if (!text) return peer;
  const entries = text.split(",").map((entry) => entry.trim());
  const last = entries.length - 1;
  if (entries.length < hop) return peer;
  const index = hop >= 2 && last - hop >= 0 && entries[last] === entries[last - hop] ? last : entries.length - hop;
  return normalize(entries[index] as string) ?? peer;
}

/** An IP address in canonical text, IPv4-mapped IPv6 as IPv4; undefined for anything else. */
function normalize(text: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  const address = mapped ? (mapped[1] as string) : text;
  const version = isIP(address);
  if (version === 4) return address;
  if (version === 6) return address.toLowerCase();
  return undefined;
}

/**
 * What the per-address limits count: the address itself for IPv4, its /64 for IPv6 (one subscriber line gets a whole
 * /64 and can use any address in it).
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address, without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part is two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => "0");
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}

/**
 * The scheme the browser used, as the platform in front says it (`X-Forwarded-Proto`'s last entry; `ws` and `wss`, as
 * some proxies write for WebSockets, count as http and https), else the connection's own; undefined when nothing in
 * front says it and the connection is plain (a service reached directly, as in local tests).
 */
export function forwardedScheme(req: IncomingMessage): "http" | "https" | undefined {
  const forwarded = req.headers["x-forwarded-proto"];
  const text = Array.isArray(forwarded) ? forwarded.join(",") : forwarded;
  const proto = text?.split(",").pop()?.trim().toLowerCase();
  if (proto === "https" || proto === "wss") return "https";
  if (proto === "http" || proto === "ws") return "http";
  return (req.socket as { encrypted?: boolean }).encrypted === true ? "https" : undefined;
}

function requestScheme(req: IncomingMessage): "http" | "https" {
  return forwardedScheme(req) ?? "http";
}

/** The origin the browser reached, scheme included: undefined when the Host header is not a host (and port). */
export function requestOrigin(req: IncomingMessage, scheme: "http" | "https" = requestScheme(req)): string | undefined {
  const host = req.headers.host?.toLowerCase();
  if (!host) return undefined;
  try {
    const url = new URL(`${scheme}://${host}`);
    // Anything but a host and port (a path, credentials) reads differently once parsed.
    return url.host === host || `${url.host}:${url.protocol === "https:" ? 443 : 80}` === host ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** True when the request came over HTTPS to whatever is in front of the service. */
export function servedOverHttps(req: IncomingMessage): boolean {
  return requestScheme(req) === "https";
}
