/**
 * What a browser downloads to open a board: the build's pages and content-hashed assets, compressed (brotli or
 * gzip, whichever the browser takes, written once by client/build.mjs), cached for good when their name carries a
 * hash, never when it does not, under the Content-Security-Policy; and the budget of docs/client-app.md, measured on
 * the real build (dist/client, made by `npm run build`).
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdirSync,
} from "node:fs";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { createHttpHandler } from "../../service/http";

/**
 * docs/client-app.md, "Assets": what the page may cost, gzip-compressed (what every browser takes; brotli, over HTTPS,
 * is about a tenth smaller). Scripts: every script of the build (the page's one script, which its ink worker runs too).
 */
const BUDGET = { scriptsGzip: 60 * 1024, stylesGzip: 6 * 1024, pageGzip: 4 * 1024 };

/** The build to measure: client/build.mjs's output folder (CLIENT_OUTDIR, as the build takes it). */
const BUILD = process.env.CLIENT_OUTDIR ?? path.join(__dirname, "..", "..", "dist", "client");

describe("serving", () => {
  let folder: string;
  let server: Server;
  let origin: string;
  const script = "console.log('a script long enough to be worth compressing');\n".repeat(40);
  const page = `<!doctype html><html><head><script defer src="/assets/app-ABC123.js"></script></head></html>${" ".repeat(500)}`;

  beforeAll(async () => {
    folder = mkdtempSync(path.join(tmpdir(), "page-assets-"));
    mkdirSync(path.join(folder, "assets"));
    const write = (file: string, text: string) => {
      writeFileSync(path.join(folder, file), text);
      writeFileSync(path.join(folder, `${file}.br`), brotliCompressSync(text));
      writeFileSync(path.join(folder, `${file}.gz`), gzipSync(text));
    };
    write("index.html", page);
    write("not-found.html", "<!doctype html><p>There is no board at this address</p>");
    write("assets/app-ABC123.js", script);
    writeFileSync(path.join(folder, "assets", "plain-XYZ.js"), "/* not compressed by the build */");
    server = createServer(createHttpHandler({ clientDir: folder, isReady: () => true }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(folder, { recursive: true, force: true });
  });

  /** A GET with the given Accept-Encoding; the body as sent (not decoded). */
  function get(pathname: string, acceptEncoding?: string) {
    return new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const headers = acceptEncoding === undefined ? {} : { "accept-encoding": acceptEncoding };
      request(`${origin}${pathname}`, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        );
      })
        .on("error", reject)
        .end();
    });
  }

  test.each([
    ["gzip, deflate, br, zstd", "br"],
    ["gzip, deflate", "gzip"],
    ["br;q=0, gzip", "gzip"],
    ["identity", undefined],
    [undefined, undefined],
  ])("a hashed script asked with Accept-Encoding %p comes as %p, cached for good", async (accept, encoding) => {
    const response = await get("/assets/app-ABC123.js", accept);
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBe(encoding);
    expect(response.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(response.headers.vary).toMatch(/accept-encoding/i);
    expect(response.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const decode = { br: brotliDecompressSync, gzip: gunzipSync }[encoding ?? ""] ?? ((body: Buffer) => body);
    expect(decode(response.body).toString()).toBe(script);
    if (encoding) expect(response.body.length).toBeLessThan(script.length / 5);
  });

  test("the page comes compressed, never cached, with the Content-Security-Policy", async () => {
    const response = await get("/b/some-board", "gzip, deflate, br");
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBe("br");
    expect(response.headers["cache-control"]).toBe("no-cache");
    expect(response.headers.vary).toMatch(/accept-encoding/i);
    expect(response.headers["content-security-policy"]).toMatch(/script-src 'self'; style-src 'self'/);
    expect(brotliDecompressSync(response.body).toString()).toBe(page);
    expect((await get("/b/some-board")).body.toString()).toBe(page);
  });

  test("an asset the build did not compress, and a compressed copy asked for by its own name", async () => {
    const plain = await get("/assets/plain-XYZ.js", "gzip, br");
    expect(plain.status).toBe(200);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe("/* not compressed by the build */");
    expect((await get("/assets/app-ABC123.js.br", "br")).status).toBe(404);
    expect((await get("/assets/app-ABC123.js.gz")).status).toBe(404);
    expect((await get("/assets/missing.js", "br")).status).toBe(404);
  });

  test.each(["/b/bad.board", "/b/a/b", "/b/"])(
    "a bad board address, %s, gets a page that says so",
    async (pathname) => {
      const response = await get(pathname);
      expect(response.status).toBe(404);
      expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(response.body.toString()).toContain("There is no board at this address");
    },
  );
});

describe("the build (dist/client, from `npm run build`)", () => {
  beforeAll(() => {
    if (!existsSync(path.join(BUILD, "index.html"))) throw new Error(`no client build in ${BUILD}: npm run build`);
  });

  const html = () => readFileSync(path.join(BUILD, "index.html"), "utf8");
  const gzipSize = (file: string) => statSync(path.join(BUILD, "assets", `${file}.gz`)).size;
  const referenced = (pattern: RegExp) => [...html().matchAll(pattern)].map((match) => match[1] as string);

  test("index.html names only content-hashed assets, and every text asset has its compressed copies", () => {
    const names = [...referenced(/src="\/assets\/([^"]+)"/g), ...referenced(/href="\/assets\/([^"]+)"/g)];
    expect(names.length).toBe(2);
    for (const name of names) expect(name).toMatch(/^[a-z]+-[A-Z0-9]{8}\.(js|css)$/);
    for (const file of readdirSync(path.join(BUILD, "assets")).filter((name) => /\.(js|css)$/.test(name)))
      for (const extension of [".br", ".gz"])
        expect(existsSync(path.join(BUILD, "assets", file + extension))).toBe(true);
  });

  test("the page's scripts, styles and HTML stay within the budget, gzip-compressed", () => {
    const scripts = readdirSync(path.join(BUILD, "assets")).filter((name) => name.endsWith(".js"));
    const styles = readdirSync(path.join(BUILD, "assets")).filter((name) => name.endsWith(".css"));
    const sizes = {
      scriptsGzip: scripts.reduce((sum, name) => sum + gzipSize(name), 0),
      stylesGzip: styles.reduce((sum, name) => sum + gzipSize(name), 0),
      pageGzip: statSync(path.join(BUILD, "index.html.gz")).size,
    };
    console.log(`page assets, gzip bytes: ${JSON.stringify(sizes)}; budget ${JSON.stringify(BUDGET)}`);
    expect(sizes.scriptsGzip).toBeLessThanOrEqual(BUDGET.scriptsGzip);
    expect(sizes.stylesGzip).toBeLessThanOrEqual(BUDGET.stylesGzip);
    expect(sizes.pageGzip).toBeLessThanOrEqual(BUDGET.pageGzip);
  });
});
