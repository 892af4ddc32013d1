// Bundles the browser client into dist/client: index.html plus content-hashed assets that the service
// serves with long cache lifetimes (a new build gets new names, so nobody runs a stale mix).
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const root = path.dirname(new URL(import.meta.url).pathname);
const outdir = path.join(root, "..", "dist", "client");

await rm(outdir, { recursive: true, force: true });
const common = {
  outdir: path.join(outdir, "assets"),
  bundle: true,
  minify: true,
  sourcemap: "linked",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  metafile: true,
  logLevel: "warning",
};
// The ink worker first (client/app/ink-worker.ts): the page's script names it, content hash included.
const worker = await build({
  ...common,
  entryPoints: [path.join(root, "app", "ink-worker.ts")],
  entryNames: "ink-[hash]",
});
const workerFile = Object.keys(worker.metafile.outputs)
  .map((file) => path.basename(file))
  .find((name) => name.endsWith(".js"));
if (!workerFile) throw new Error("esbuild produced no ink worker");
const result = await build({
  ...common,
  entryPoints: [path.join(root, "app", "main.ts")],
  entryNames: "app-[hash]",
  define: { INK_WORKER_URL: JSON.stringify(`/assets/${workerFile}`) },
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const named = (extension) => {
  const file = outputs.find((name) => name.endsWith(extension));
  if (!file) throw new Error(`esbuild produced no ${extension} file`);
  return file;
};
const template = await readFile(path.join(root, "app", "index.html"), "utf8");
await mkdir(outdir, { recursive: true });
await writeFile(
  path.join(outdir, "index.html"),
  template.replace("%SCRIPT%", named(".js")).replace("%STYLES%", named(".css")),
);
