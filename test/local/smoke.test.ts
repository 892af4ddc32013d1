/**
 * `make smoke` (local/smoke/) against `make dev`'s topology: two instances of the built service behind the Cloud
 * Run-like front, the Memorystore stand-in with TLS and AUTH. Every check passes there, with a short hold; against a
 * front that serves no whiteboard, the checks fail and say why. The outputs file is read as `make deploy` writes it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Topology } from "../../local/topology";
import { deployedUrl } from "../../local/smoke/main";
import { formatTable, runSmoke } from "../../local/smoke/smoke";

let topology: Topology;

beforeAll(async () => {
  topology = await Topology.start({ instances: 2, front: { port: 0 } });
}, 60_000);

afterAll(async () => {
  await topology?.stop();
});

test("every check passes through make dev's front, the WebSocket held past the hold", async () => {
  const rows = await runSmoke({ url: topology.url, holdSeconds: 3 });
  expect(rows.map((row) => row.check)).toEqual([
    "a visit gets a fresh board",
    "the board's page and its security headers",
    "health through the front end",
    "/metrics is not public",
    "two clients: a line each way",
    "a late joiner catches up",
    "a WebSocket stays open 3 s",
  ]);
  expect(rows.filter((row) => !row.ok)).toEqual([]);
  expect(rows.find((row) => row.check === "a late joiner catches up")?.detail).toBe("2 lines");
  expect(rows.find((row) => row.check.startsWith("a WebSocket"))?.ms).toBeGreaterThanOrEqual(3_000);
  expect(formatTable(rows)).toContain("a late joiner catches up");
}, 60_000);

test("a front that is not the whiteboard fails the checks, each saying why", async () => {
  // Answers 200 "ok" to everything, with no header: what a misrouted domain or a parked page looks like.
  const impostor: Server = createServer((_req, res) => res.end("ok\n# TYPE x counter\n"));
  await new Promise<void>((resolve) => impostor.listen(0, "127.0.0.1", resolve));
  try {
    const rows = await runSmoke({
      url: `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`,
      holdSeconds: 0,
      deliveryMs: 500,
    });
    const failed = Object.fromEntries(rows.filter((row) => !row.ok).map((row) => [row.check, row.detail]));
    expect(failed["a visit gets a fresh board"]).toMatch(/GET \/ answered 200/);
    expect(failed["/metrics is not public"]).toMatch(/GET \/metrics answered 200/);
    expect(failed["two clients: a line each way"]).toBeDefined();
    expect(rows.some((row) => row.ok && row.check === "health through the front end")).toBe(true);
  } finally {
    await new Promise((resolve) => impostor.close(resolve));
  }
}, 30_000);

test("the URL comes from make deploy's outputs: the load balancer's when there is one, else run.app's", () => {
  const outputs = {
    "prod-app": {
      service_url: "https://whiteboard-prod-abc-uc.a.run.app",
      load_balancer_url: "https://board.example.com",
    },
    "dev-app": { service_url: "https://whiteboard-dev-abc-uc.a.run.app" },
  };
  expect(deployedUrl(JSON.stringify(outputs), "prod")).toBe("https://board.example.com");
  expect(deployedUrl(JSON.stringify(outputs), "dev")).toBe("https://whiteboard-dev-abc-uc.a.run.app");
  expect(() => deployedUrl("{}", "dev")).toThrow(/no load_balancer_url or service_url for dev-app/);
});
