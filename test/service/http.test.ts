/**
 * The service's plain HTTP side: probes, the client's pages and assets with their cache and security
 * headers, and the WebSocket origin check.
 */
import { Topology } from "../../local/topology";
import { boardIdOf } from "../../service/identity";
import { connectClient } from "../support/socket-client";

let sameOrigin: Topology;
let allowList: Topology;

beforeAll(async () => {
  [sameOrigin, allowList] = await Promise.all([
    Topology.start({ instances: 1 }),
    Topology.start({ instances: 1, env: { ALLOWED_ORIGINS: "https://board.example.com" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([sameOrigin?.stop(), allowList?.stop()]);
});

const url = (path: string) => `${sameOrigin.instance(0).url}${path}`;

test("/healthz and /readyz answer 200 while Redis is up", async () => {
  expect((await fetch(url("/healthz"))).status).toBe(200);
  expect((await fetch(url("/readyz"))).status).toBe(200);
});

test("/ redirects to a new board of its own: its id derived from a random edit key that only the fragment carries", async () => {
  const answers = await Promise.all([1, 2].map(() => fetch(url("/"), { redirect: "manual" })));
  const locations = answers.map((response) => response.headers.get("location"));
  for (const response of answers) {
    expect(response.status).toBe(302);
    expect(response.headers.get("cache-control")).toBe("no-cache");
  }
  for (const location of locations) {
    // 22 base64url characters: the edit key's 128 random bits, and the board id derived from it.
    const [, board, key] = /^\/b\/([A-Za-z0-9_-]{22})#edit=([A-Za-z0-9_-]{22})$/.exec(location as string) ?? [];
    expect(board).toBeDefined();
    expect(boardIdOf(key as string)).toBe(board);
  }
  expect(locations[0]).not.toBe(locations[1]);
  expect((await fetch(url(locations[0] as string))).status).toBe(200);
});

test.each(["/b/my-board", "/b/my-board/"])("%s serves the app with a strict CSP and no caching", async (path) => {
  const response = await fetch(url(path));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-cache");
  expect(response.headers.get("content-security-policy")).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(await response.text()).toMatch(/<script defer src="\/assets\/app-[A-Z0-9]+\.js">/);
});

test("hashed assets are cached for a year as immutable", async () => {
  const html = await (await fetch(url("/b/assets-test"))).text();
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  const response = await fetch(url(script ?? "/missing"));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/javascript/);
  expect(response.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
});

test.each([
  ["/b/bad.board", 404],
  ["/b/a/b", 404],
  ["/assets/../package.json", 404],
  ["/assets/nope.js", 404],
  ["/socket.io/?EIO=4&transport=polling", 400],
])("%s answers %i", async (path, status) => {
  expect((await fetch(url(path))).status).toBe(status);
});

test("only GET and HEAD are served", async () => {
  expect((await fetch(url("/"), { method: "POST" })).status).toBe(405);
  expect((await fetch(url("/healthz"), { method: "HEAD" })).status).toBe(200);
});

describe("WebSocket origin check", () => {
  const port = () => new URL(sameOrigin.instance(0).url).port;

  test("same-origin by default: a page from the service's own host may connect", async () => {
    const client = await connectClient(sameOrigin.instance(0).url, { origin: `http://127.0.0.1:${port()}` });
    client.close();
  });

  test("same-origin by default: a page from another site may not", async () => {
    await expect(connectClient(sameOrigin.instance(0).url, { origin: "https://evil.example" })).rejects.toThrow();
  });

  test("with ALLOWED_ORIGINS, only the listed origins may connect", async () => {
    const client = await connectClient(allowList.instance(0).url, { origin: "https://board.example.com" });
    client.close();
    await expect(connectClient(allowList.instance(0).url, { origin: `http://127.0.0.1:${port()}` })).rejects.toThrow();
  });

  test("a client without an Origin header (not a browser) may connect", async () => {
    const client = await connectClient(sameOrigin.instance(0).url);
    client.close();
  });
});
