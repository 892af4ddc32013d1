/**
 * The local Memorystore stand-in behaves as Memorystore does where the service can tell: TLS only, AUTH required,
 * a server certificate with the IP as CN and no SAN from a CA of its own; and a restart keeps what the fault tests
 * rely on (port, certificates, password, data).
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createConnection } from "node:net";
import { connect, type PeerCertificate } from "node:tls";
import { createClient } from "redis";
import { RedisServer } from "../../local/redis-server";
import { redisTlsOptions } from "../../service/redis-tls";

let redis: RedisServer;

beforeAll(async () => {
  redis = await new RedisServer().start();
});

afterAll(async () => {
  await redis?.destroy();
});

/** A node-redis client as the service makes one, with the given password. */
async function client(password: string | undefined) {
  const { url, caCert } = redis.clientConfig;
  const created = createClient({ url, password, socket: { ...redisTlsOptions(caCert), reconnectStrategy: false } });
  created.on("error", () => undefined);
  return created.connect();
}

function serverCertificate(): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: "127.0.0.1", port: redis.port, ...redisTlsOptions(redis.clientConfig.caCert) },
      () => {
        resolve(socket.getPeerCertificate());
        socket.destroy();
      },
    );
    socket.once("error", reject);
  });
}

test("the instances get exactly the variables the stacks set on Cloud Run", () => {
  expect(Object.keys(redis.serviceEnv).sort()).toEqual([
    "REDIS_CA_CERT",
    "REDIS_HOST",
    "REDIS_PASSWORD",
    "REDIS_PORT",
    "REDIS_TLS",
  ]);
  expect(redis.serviceEnv).toMatchObject({
    REDIS_HOST: "127.0.0.1",
    REDIS_PORT: String(redis.port),
    REDIS_TLS: "true",
  });
});

test("TLS only: Redis has no plain-text port, and its port does not answer plain text", async () => {
  const answer = await new Promise<string>((resolve) => {
    let received = "";
    const socket = createConnection({ host: "127.0.0.1", port: redis.port }, () => socket.write("PING\r\n"));
    socket.on("data", (data) => (received += data.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", () => undefined);
    socket.setTimeout(1_000, () => socket.destroy());
  });
  expect(answer).not.toContain("PONG");
  const admin = await client(redis.password);
  try {
    expect(await admin.configGet("port")).toEqual({ port: "0" });
    expect(await admin.configGet("tls-port")).toEqual({ "tls-port": String(redis.port) });
  } finally {
    admin.destroy();
  }
});

test("AUTH is required, with the password the instances get", async () => {
  await expect(client(undefined)).rejects.toThrow(/NOAUTH/);
  await expect(client("not-the-password")).rejects.toThrow(/WRONGPASS|invalid password/);
  expect(redis.serviceEnv.REDIS_PASSWORD).toBe(redis.password);
});

test("the server certificate is shaped like Memorystore's: CN = the IP, no SAN, signed by the CA the instances get", async () => {
  const certificate = await serverCertificate();
  expect(certificate.subject.CN).toBe("127.0.0.1");
  expect(certificate.subjectaltname).toBeUndefined();
  const ca = new X509Certificate(redis.serviceEnv.REDIS_CA_CERT!);
  expect(new X509Certificate(certificate.raw).verify(ca.publicKey)).toBe(true);
  expect(ca.ca).toBe(true);
});

test("make dev's redis-cli command reaches it", () => {
  const reply = execFileSync(
    "redis-cli",
    [
      "--tls",
      "--cacert",
      redis.caCertFile,
      "-a",
      redis.password,
      "--no-auth-warning",
      "-p",
      String(redis.port),
      "PING",
    ],
    { encoding: "utf8", timeout: 5_000 },
  );
  expect(reply.trim()).toBe("PONG");
});

test("a restart keeps the port, the certificates, the password and the data", async () => {
  const before = { env: redis.serviceEnv, certificate: (await serverCertificate()).fingerprint256 };
  const writer = await client(redis.password);
  await writer.set("kept", "across restarts");
  writer.destroy();

  await redis.restart();

  expect(redis.serviceEnv).toEqual(before.env);
  expect((await serverCertificate()).fingerprint256).toBe(before.certificate);
  const reader = await client(redis.password);
  try {
    expect(await reader.get("kept")).toBe("across restarts");
  } finally {
    reader.destroy();
  }
});
