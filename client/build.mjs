// Bundles the browser client into dist/client: index.html plus content-hashed assets that the service
// serves with long cache lifetimes (a new build gets new names, so nobody runs a stale mix).
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

const root = path.dirname(new URL(import.meta.url).pathname);
const outdir = path.join(root, "..", "dist", "client");

await rm(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [path.join(root, "app", "main.ts")],
  outdir: path.join(outdir, "assets"),
  entryNames: "app-[hash]",
  bundle: true,
  minify: true,
  sourcemap: "linked",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const named = (extension) => {
  const file = outputs.find((name) => name.endsWith(extension));
  if (!file) throw new Error(`esbuild produced no ${extension} file`);
  return file;
};
const template = await readFile(path.join(root, "app", "index.html"), "utf8");
await mkdir(outdir, { recursive: true });
await writeFile(path.join(outdir, "index.html"), template.replace("%SCRIPT%", named(".js")).replace("%STYLES%", named(".css")));
