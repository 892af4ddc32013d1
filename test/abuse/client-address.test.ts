/**
 * Which X-Forwarded-For entry is the client, for each front the stacks deploy, and what a client can do by sending
 * its own header; the origin and scheme a request reached; the per-address key; bounded security logs.
 */
import type { IncomingMessage } from "node:http";
import pino from "pino";
import { addressKey, clientAddress, requestOrigin, servedOverHttps } from "../../service/client-address";
import { SampledLog } from "../../service/sampled-log";
import { createLogger, redactUrlCredentials } from "../../service/logger";

const request = (headers: Record<string, string>, peer = "169.254.1.1") =>
  ({ headers, socket: { remoteAddress: peer } }) as unknown as IncomingMessage;
const xff = (value: string, hop: number) => clientAddress(request({ "x-forwarded-for": value }), hop);

describe("Cloud Run at its run.app URL (CLIENT_ADDRESS_HOP=1): Cloud Run appends the address that connected", () => {
  test("the client is the last entry", () => expect(xff("203.0.113.7", 1)).toBe("203.0.113.7"));
  test("whatever the client sent comes before it and is ignored", () => {
    expect(xff("1.1.1.1, 10.0.0.1, 203.0.113.7", 1)).toBe("203.0.113.7");
    expect(xff("garbage with spaces,203.0.113.7", 1)).toBe("203.0.113.7");
  });
});

describe("behind the load balancer (CLIENT_ADDRESS_HOP=2): it appends '<client>,<its own address>'", () => {
  const LB = "34.120.0.10";
  test("the client is the second-to-last entry", () => expect(xff(`203.0.113.7,${LB}`, 2)).toBe("203.0.113.7"));
  test("a spoofed prefix is ignored", () => expect(xff(`6.6.6.6, 7.7.7.7, 203.0.113.7, ${LB}`, 2)).toBe("203.0.113.7"));
  test("Cloud Run appending the client once more after the pair (seen in 2022) still gives the client", () => {
    expect(xff(`203.0.113.7, ${LB}, 203.0.113.7`, 2)).toBe("203.0.113.7");
    expect(xff(`6.6.6.6, 203.0.113.7, ${LB}, 203.0.113.7`, 2)).toBe("203.0.113.7");
  });
  test("a client imitating that shape is counted as the load balancer's address, with everyone else who tries", () => {
    expect(xff(`${LB}, 203.0.113.7, ${LB}`, 2)).toBe(LB);
  });
});

test("too few entries, an entry that is not an address, or hop 0: the TCP peer", () => {
  expect(xff("203.0.113.7", 2)).toBe("169.254.1.1");
  expect(xff("203.0.113.7, not-an-ip", 1)).toBe("169.254.1.1");
  expect(xff("203.0.113.7", 0)).toBe("169.254.1.1");
  expect(clientAddress(request({}), 1)).toBe("169.254.1.1");
  expect(clientAddress(request({}, "::ffff:127.0.0.2"), 1)).toBe("127.0.0.2");
});

test("IPv6 addresses count per /64, IPv4 per address", () => {
  expect(xff("2001:DB8:1:2::5", 1)).toBe("2001:db8:1:2::5");
  expect(addressKey("2001:db8:1:2::5")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(addressKey("::1")).toBe("0:0:0:0::/64");
  expect(addressKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
});

test("the origin a request reached carries the scheme the front saw", () => {
  expect(requestOrigin(request({ host: "board.example.com", "x-forwarded-proto": "https" }))).toBe(
    "https://board.example.com",
  );
  expect(requestOrigin(request({ host: "board.example.com:443", "x-forwarded-proto": "https" }))).toBe(
    "https://board.example.com",
  );
  expect(requestOrigin(request({ host: "127.0.0.1:8080" }))).toBe("http://127.0.0.1:8080");
  // http-proxy (the local front) appends ws or wss for a WebSocket: the last entry is what the nearest proxy saw.
  expect(requestOrigin(request({ host: "127.0.0.1:8080", "x-forwarded-proto": "https,ws" }))).toBe(
    "http://127.0.0.1:8080",
  );
  expect(requestOrigin(request({ host: "evil.example/path" }))).toBeUndefined();
  expect(requestOrigin(request({ host: "user@evil.example" }))).toBeUndefined();
  expect(requestOrigin(request({}))).toBeUndefined();
  expect(servedOverHttps(request({ "x-forwarded-proto": "https" }))).toBe(true);
  expect(servedOverHttps(request({}))).toBe(false);
});

test("a URL's user name and password are redacted in any log line, in either slot", () => {
  expect(redactUrlCredentials("rediss://default:s3cret@10.0.0.3:6378")).toBe("rediss://[redacted]@10.0.0.3:6378");
  expect(redactUrlCredentials("connect to redis://s3cret@10.0.0.3:6379 failed")).toBe(
    "connect to redis://[redacted]@10.0.0.3:6379 failed",
  );
  expect(redactUrlCredentials("mail me at someone@example.com")).toBe("mail me at someone@example.com");
  const lines: string[] = [];
  const logger = createLogger({ level: "info", instanceId: "t" }, { write: (line: string) => lines.push(line) });
  logger.info(
    { redis: "rediss://pw-in-user-slot@10.0.0.3:6378", nested: { url: "redis://u:pw2@h:1" } },
    "listening at redis://u:pw3@h:1",
  );
  expect(lines.join("")).not.toMatch(/pw-in-user-slot|pw2|pw3/);
  expect(lines.join("")).toContain("rediss://[redacted]@10.0.0.3:6378");
});

test("security logs keep 10 lines of a kind per 10 s and say how many they left out", () => {
  const lines: Record<string, unknown>[] = [];
  let now = 0;
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const log = new SampledLog(logger, 10, 10_000, () => now);
  for (let i = 0; i < 1_000; i++) log.warn("address_full", { address: "203.0.113.7" }, "connection refused");
  log.warn("origin", { address: "203.0.113.8" }, "connection refused");
  expect(lines).toHaveLength(11);
  now = 10_000;
  log.warn("address_full", { address: "203.0.113.7" }, "connection refused");
  expect(lines).toHaveLength(12);
  expect(lines[11]).toMatchObject({ kind: "address_full", address: "203.0.113.7", linesLeftOut: 990 });
});
