/**
 * The Cloud Run-like front (local/front.ts) against real instances: no affinity, the per-instance
 * concurrency cap with HTTP 429, and the cut at the request timeout.
 */
import { Topology } from "../../local/topology";
import { connectClient, eventually, type TestClient } from "../support/socket-client";

let topology: Topology;
const clients: TestClient[] = [];

beforeAll(async () => {
  topology = await Topology.start({ instances: 2, front: { port: 0, maxConcurrency: 2, requestTimeoutMs: 1_500 } });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  const open = () => Object.values(topology.frontStats()?.active ?? {}).reduce((sum, count) => sum + count, 0);
  await eventually("the front to release every slot", () => open() === 0);
});

afterAll(async () => {
  await topology?.stop();
});

async function open(): Promise<TestClient> {
  const client = await connectClient(topology.url);
  clients.push(client);
  return client;
}

test("new connections are spread over the instances, with no affinity", async () => {
  await open();
  await open();
  expect(topology.frontStats()?.active).toEqual({ "instance-a": 1, "instance-b": 1 });
});

test("when every instance holds its maximum of concurrent requests, the front answers 429", async () => {
  for (let i = 0; i < 4; i += 1) await open();
  await expect(open()).rejects.toThrow();
  const response = await fetch(`${topology.url}/healthz`);
  expect(response.status).toBe(429);
  expect(response.headers.get("retry-after")).toBe("1");
  expect(topology.frontStats()?.refused).toBeGreaterThanOrEqual(2);
});

test("a WebSocket is cut when it reaches the request timeout", async () => {
  const client = await open();
  const started = Date.now();
  const reason = await new Promise<string>((resolve) => client.socket.once("disconnect", resolve));
  expect(reason).toBe("transport close");
  expect(Date.now() - started).toBeGreaterThan(1_000);
  expect(topology.frontStats()?.timeoutCuts).toBeGreaterThanOrEqual(1);
});

test("HTTP requests pass through to an instance", async () => {
  const response = await fetch(`${topology.url}/b/some-board`);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain("<canvas");
});
