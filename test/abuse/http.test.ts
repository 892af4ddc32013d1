/**
 * The HTTP side as an attacker sees it: HSTS and Permissions-Policy on pages, source maps not public unless asked
 * for, the WebSocket Origin compared with its scheme, and no Redis credential in any log line whatever slot of
 * REDIS_URL it is written in.
 */
import { RedisServer } from "../../local/redis-server";
import { ServiceInstance } from "../../local/service-instance";
import { Topology } from "../../local/topology";
import { connectClient, eventually } from "../support/socket-client";
import { sleep } from "./support";

let topology: Topology;
let withMaps: Topology;

beforeAll(async () => {
  [topology, withMaps] = await Promise.all([
    Topology.start({ instances: 1, front: { port: 0 } }),
    Topology.start({ instances: 1, store: "memory", env: { SOURCE_MAPS: "true" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([topology?.stop(), withMaps?.stop()]);
});

const url = (path: string, on = topology) => `${on.instance(0).url}${path}`;

test("HSTS only on responses that came over HTTPS (X-Forwarded-Proto from Cloud Run or the load balancer)", async () => {
  const overHttps = await fetch(url("/b/hsts"), { headers: { "x-forwarded-proto": "https" } });
  expect(overHttps.headers.get("strict-transport-security")).toBe("max-age=31536000");
  expect(
    (await fetch(url("/healthz"), { headers: { "x-forwarded-proto": "https" } })).headers.get(
      "strict-transport-security",
    ),
  ).toBe("max-age=31536000");
  expect((await fetch(url("/b/hsts"))).headers.get("strict-transport-security")).toBeNull();
});

test("pages and assets refuse powerful features through Permissions-Policy", async () => {
  const page = await fetch(url("/b/permissions"));
  const policy = page.headers.get("permissions-policy") ?? "";
  for (const feature of ["camera", "microphone", "geolocation", "payment", "usb"])
    expect(policy).toContain(`${feature}=()`);
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1] as string;
  expect((await fetch(url(script))).headers.get("permissions-policy")).toBe(policy);
});

test("source maps are not served unless SOURCE_MAPS=true, however the name is written", async () => {
  const html = await (await fetch(url("/b/maps"))).text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
  const map = `${script}.map`;
  expect((await fetch(url(script))).status).toBe(200);
  expect((await fetch(url(map))).status).toBe(404);
  expect((await fetch(url(map.replace(/map$/, "m%61p")))).status).toBe(404);
  expect((await fetch(url(map.replace(/map$/, "MAP")))).status).toBe(404);
  // The same build served with the setting (make dev sets it).
  expect((await fetch(url(map, withMaps))).status).toBe(200);
});

describe("WebSocket Origin, compared with its scheme", () => {
  const port = () => new URL(topology.instance(0).url).port;
  const direct = () => topology.instance(0).url;

  test("an https page may not open a socket to the http site, nor an http page to the https one", async () => {
    await expect(
      connectClient(direct(), { origin: `https://127.0.0.1:${port()}`, headers: { "x-forwarded-proto": "http" } }),
    ).rejects.toThrow();
    await expect(
      connectClient(direct(), { origin: `http://127.0.0.1:${port()}`, headers: { "x-forwarded-proto": "https" } }),
    ).rejects.toThrow();
  });

  test("the page's own origin may, over http and over https", async () => {
    (
      await connectClient(direct(), { origin: `http://127.0.0.1:${port()}`, headers: { "x-forwarded-proto": "http" } })
    ).close();
    (
      await connectClient(direct(), {
        origin: `https://127.0.0.1:${port()}`,
        headers: { "x-forwarded-proto": "https" },
      })
    ).close();
  });

  test("through the front, which says the scheme (ws, for http), an https page of the same host may not", async () => {
    const frontPort = new URL(topology.url).port;
    (await connectClient(topology.url, { origin: `http://127.0.0.1:${frontPort}` })).close();
    await expect(connectClient(topology.url, { origin: `https://127.0.0.1:${frontPort}` })).rejects.toThrow();
  });

  test("straight to the service, with nothing in front to say the scheme, either scheme of the host may", async () => {
    (await connectClient(direct(), { origin: `https://127.0.0.1:${port()}` })).close();
    (await connectClient(direct(), { origin: `http://127.0.0.1:${port()}` })).close();
  });

  test("a look-alike host, or another port, may not", async () => {
    await expect(connectClient(direct(), { origin: `http://127.0.0.1.evil.example:${port()}` })).rejects.toThrow();
    await expect(connectClient(direct(), { origin: `http://127.0.0.1:1${port()}` })).rejects.toThrow();
  });
});

test.each([
  ["user name and password", (password: string) => `default:${password}`],
  ["password in the user name slot", (password: string) => password],
])("no log line shows a Redis credential from REDIS_URL (%s)", async (_, credentials) => {
  const redis = new RedisServer();
  await redis.start();
  const lines: string[] = [];
  const instance = await ServiceInstance.create({
    name: "redacted",
    env: {
      REDIS_URL: `rediss://${credentials(redis.password)}@127.0.0.1:${redis.port}`,
      REDIS_CA_CERT: redis.serviceEnv.REDIS_CA_CERT as string,
      LOG_LEVEL: "debug",
    },
    onLine: (line) => lines.push(line),
  });
  try {
    // Ready or not (Redis refuses a password given as a user name): what it logs while it tries to connect.
    const started = instance.start(10_000).catch(() => undefined);
    await eventually("the instance to say where it connects", () => lines.some((line) => line.includes('"listening"')));
    await sleep(300);
    await instance.kill();
    await started;
  } finally {
    await instance.kill();
    await redis.destroy();
  }
  const text = lines.join("\n");
  expect(text).toContain('"redis":"rediss://[redacted]@127.0.0.1:');
  expect(text).not.toContain(redis.password);
  expect(text).not.toContain("default");
});
