/**
 * The Redis server's TLS identity as the service checks it: certificates made by openssl in each shape that
 * matters, checked by the function itself, in a real TLS handshake, and end to end against the Memorystore stand-in
 * (a real redis-server with TLS) through both of the service's Redis connections.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import { checkServerIdentity, connect, createServer, type PeerCertificate, type Server } from "node:tls";
import pino from "pino";
import { waitFor } from "../../local/ports";
import { RedisServer } from "../../local/redis-server";
import { CertificateAuthority, type CertificateFiles } from "../../local/tls-certificates";
import { createRedisConnections } from "../../service/redis";
import { checkRedisServerIdentity, redisTlsOptions } from "../../service/redis-tls";
import { stringMatching } from "../support/matchers";

const HOST = "127.0.0.1";
let dir: string;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
const certificates: Record<string, CertificateFiles> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "redis-tls-test-"));
  [ca, otherCa] = await Promise.all([
    CertificateAuthority.create(dir, "ca"),
    CertificateAuthority.create(dir, "other-ca"),
  ]);
  const issued = await Promise.all([
    ca.issue("memorystore-shaped", { commonName: HOST }),
    ca.issue("san-match", { commonName: "redis.internal", subjectAltName: `IP:${HOST}` }),
    // The CN names the host, but a certificate with a SAN list is judged by that list alone.
    ca.issue("san-mismatch", { commonName: HOST, subjectAltName: "IP:10.9.9.9" }),
    ca.issue("cn-mismatch", { commonName: "10.9.9.9" }),
    otherCa.issue("other-ca-signed", { commonName: HOST }),
  ]);
  for (const files of issued) certificates[path.basename(files.certFile, ".crt")] = files;
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const peer = (name: string): PeerCertificate => new X509Certificate(certificates[name]!.certPem).toLegacyObject();

describe("the identity check", () => {
  test("Node's default refuses Memorystore's certificate (CN = IP, no SAN): the bug this check fixes", () => {
    expect(checkServerIdentity(HOST, peer("memorystore-shaped"))).toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });

  test.each([
    ["no SAN, CN equals the IP (Memorystore)", "memorystore-shaped", undefined],
    ["SAN lists the IP", "san-match", undefined],
    ["SAN does not list the IP, although the CN equals it", "san-mismatch", /is not in the cert's list/],
    ["no SAN, CN is another IP", "cn-mismatch", /IP: 127\.0\.0\.1 is not the certificate's subject CN \(10\.9\.9\.9\)/],
  ])("%s", (_, name, refusal) => {
    const result = checkRedisServerIdentity(HOST, peer(name));
    if (refusal === undefined) expect(result).toBeUndefined();
    else expect(result).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID", message: stringMatching(refusal) });
  });

  test("a DNS name is checked exactly as Node checks it", () => {
    const cert = peer("san-match");
    expect(checkRedisServerIdentity("redis.internal", cert)).toEqual(checkServerIdentity("redis.internal", cert));
  });
});

describe("a TLS handshake with the service's options, trusting the Memorystore stand-in's CA only", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** Serves `name`'s certificate and connects to it as the service connects to Redis: "ok" or the error code. */
  async function handshake(name: string): Promise<string> {
    const { certPem, keyFile } = certificates[name]!;
    server = createServer({ cert: certPem, key: readFileSync(keyFile) }, (socket) => socket.end());
    await new Promise<void>((resolve) => server!.listen(0, HOST, resolve));
    const { port } = server.address() as { port: number };
    const { tls: _tls, ...options } = redisTlsOptions(ca.files.certPem);
    return new Promise((resolve) => {
      const socket = connect({ host: HOST, port, ...options }, () => {
        socket.destroy();
        resolve("ok");
      });
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  }

  test.each([
    ["memorystore-shaped", "ok"],
    ["san-match", "ok"],
    ["san-mismatch", "ERR_TLS_CERT_ALTNAME_INVALID"],
    ["cn-mismatch", "ERR_TLS_CERT_ALTNAME_INVALID"],
    // The right name, but signed by another CA: the chain check refuses it before any name is looked at.
    ["other-ca-signed", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ])("%s: %s", async (name, outcome) => {
    expect(await handshake(name)).toBe(outcome);
  });
});

describe("end to end against the Memorystore stand-in (redis-server, TLS only, AUTH)", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await new RedisServer().start();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  test("both connections come up, and a message published on one reaches a subscription on the other", async () => {
    const connections = createRedisConnections(redis.clientConfig, pino({ level: "silent" }));
    // connect() retries forever; waiting on isReady() instead lets a refusal fail the test rather than hang it.
    void connections.connect().catch(() => undefined);
    try {
      await waitFor("both connections to be ready", () => connections.isReady());
      const received = new Promise<string>((resolve) => void connections.subscriber.subscribe("tls-check", resolve));
      await waitFor(
        "the subscription",
        async () => (await connections.commands.publish("tls-check", "over TLS")) === 1,
      );
      expect(await received).toBe("over TLS");
    } finally {
      await connections.close();
    }
  });

  test("during a CA rotation the stacks pass both CAs, joined: the server's certificate from either is accepted", async () => {
    const bundle = [otherCa.files.certPem, redis.clientConfig.caCert].join("\n");
    const connections = createRedisConnections({ ...redis.clientConfig, caCert: bundle }, pino({ level: "silent" }));
    void connections.connect().catch(() => undefined);
    try {
      await waitFor("both connections to be ready", () => connections.isReady());
    } finally {
      await connections.close();
    }
  });

  test("Memorystore's server certificate rotation (a new certificate, the same CA): both connections come back", async () => {
    const connections = createRedisConnections(redis.clientConfig, pino({ level: "silent" }));
    void connections.connect().catch(() => undefined);
    try {
      await waitFor("both connections to be ready", () => connections.isReady());
      await redis.rotateServerCertificate();
      await waitFor(
        "both connections to come back",
        async () => connections.isReady() && (await connections.commands.ping()) === "PONG",
      );
    } finally {
      await connections.close();
    }
  });

  test("a server whose certificate another CA signed is refused, on both connections", async () => {
    const errors: Array<{ role: string; error: string }> = [];
    const logger = pino(
      { level: "error" },
      { write: (line: string) => void errors.push(JSON.parse(line) as { role: string; error: string }) },
    );
    const connections = createRedisConnections({ ...redis.clientConfig, caCert: otherCa.files.certPem }, logger);
    void connections.connect().catch(() => undefined);
    try {
      await waitFor("both connections to report the refusal", () => new Set(errors.map((e) => e.role)).size === 2);
      // redis-server sends its CA along with its certificate, and that CA is not the one trusted.
      expect(errors.map((e) => e.error)).toEqual(Array(2).fill("self-signed certificate in certificate chain"));
      expect(connections.isReady()).toBe(false);
    } finally {
      await connections.close();
    }
  });
});
