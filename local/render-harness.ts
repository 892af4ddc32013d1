/**
 * The render harness (client/app/render-harness.ts) on a local web server: its page script and the ink worker,
 * bundled as the client build bundles them, behind the service's Content-Security-Policy (no inline script or
 * style), so a drawing path that breaks the policy fails here as it would on the real page.
 */
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { freePort } from "./ports";

const ROOT = path.join(__dirname, "..");
const POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'";

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Render harness</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/harness.css" />
    <script defer src="/harness.js"></script>
  </head>
  <body>
    <div id="stage"><canvas id="ink"></canvas><canvas id="overlay"></canvas></div>
  </body>
</html>
`;
const STYLES = `html, body { margin: 0; height: 100%; }
#stage { position: fixed; inset: 0; background: #ffffff; }
#stage canvas { position: absolute; inset: 0; width: 100%; height: 100%; }
`;

export interface RenderHarnessServer {
  url: string;
  close(): Promise<void>;
}

async function bundle(entry: string, minify: boolean): Promise<string> {
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    minify,
    write: false,
    target: ["es2022"],
    logLevel: "warning",
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

/** `minify`: as the client build bundles (the default), or readable, for a profile. */
export async function startRenderHarness(options: { minify?: boolean } = {}): Promise<RenderHarnessServer> {
  const minify = options.minify ?? true;
  const [harness, worker] = await Promise.all([
    bundle("client/app/render-harness.ts", minify),
    bundle("client/app/ink-worker.ts", minify),
  ]);
  const files: Record<string, [type: string, body: string]> = {
    "/": ["text/html", PAGE],
    "/harness.css": ["text/css", STYLES],
    "/harness.js": ["text/javascript", harness],
    "/ink.js": ["text/javascript", worker],
  };
  const server: Server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://harness").pathname];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": `${file[0]}; charset=utf-8`, "Content-Security-Policy": POLICY });
    response.end(file[1]);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
