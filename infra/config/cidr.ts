/**
 * Small, dependency-free IPv4 CIDR helpers used by configuration validation.
 */

/** A parsed IPv4 CIDR block. */
export interface Ipv4Cidr {
  /** The text it was parsed from, e.g. `10.8.0.0/28`. */
  readonly text: string;
  /** First address of the block as an unsigned 32-bit integer. */
  readonly start: number;
  /** Last address of the block as an unsigned 32-bit integer. */
  readonly end: number;
  /** Prefix length, 0 to 32. */
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses `a.b.c.d/n`. Returns `undefined` when the text is not a canonical IPv4 CIDR block: octets must be 0-255
 * without leading zeros, the prefix 0-32, and the address must be the first address of its block (no host bits set).
 */
export function parseCidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return undefined;
  const parts = match.slice(1, 5);
  const octets: number[] = [];
  for (const part of parts) {
    if (part.length > 1 && part.startsWith("0")) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  const prefixText = match[5] ?? "";
  if (prefixText.length > 1 && prefixText.startsWith("0")) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 32) return undefined;
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined;
  return { text, start: address, end: address + size - 1, prefix };
}

/** True when the two blocks share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.start <= b.end && b.start <= a.end;
}

const RFC1918 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((block) => parseCidr(block) as Ipv4Cidr);

/** True when the whole block lies inside one of the RFC 1918 private ranges. */
export function isRfc1918(cidr: Ipv4Cidr): boolean {
  return RFC1918.some((range) => cidr.start >= range.start && cidr.end <= range.end);
}
