// Bundles the browser client into dist/client (or CLIENT_OUTDIR): index.html and not-found.html plus
// content-hashed assets that the service serves as immutable (a new build gets new names, so nobody runs a stale
// mix). Every script, style and page is also written compressed beside itself, brotli at its highest quality and
// gzip at its highest level, once here rather than on every request (see docs/client-app.md, "Assets").
import { build } from "esbuild";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = path.dirname(new URL(import.meta.url).pathname);
const outdir = process.env.CLIENT_OUTDIR
  ? path.resolve(process.env.CLIENT_OUTDIR)
  : path.join(root, "..", "dist", "client");
const assetsDir = path.join(outdir, "assets");
/** What is worth compressing: text. Source maps are left as they are (only developers fetch them). */
const COMPRESSIBLE = /\.(js|css|html|svg)$/;

await rm(outdir, { recursive: true, force: true });
const common = {
  outdir: assetsDir,
  bundle: true,
  minify: process.env.CLIENT_MINIFY !== "0",
  sourcemap: "linked",
  target: ["es2022", "chrome110", "firefox110", "safari16"],
  metafile: true,
  logLevel: "warning",
};

/** The file of `extension` that a build made. */
function output(result, extension) {
  const file = Object.keys(result.metafile.outputs)
    .map((name) => path.basename(name))
    .find((name) => name.endsWith(extension));
  if (!file) throw new Error(`esbuild produced no ${extension} file`);
  return file;
}

// One script, the page's and its ink worker's (client/app/page-script.ts).
const page = await build({
  ...common,
  entryPoints: [path.join(root, "app", "page-script.ts")],
  entryNames: "app-[hash]",
});

const names = { "%SCRIPT%": output(page, ".js"), "%STYLES%": output(page, ".css") };
for (const template of ["index.html", "not-found.html"]) {
  const text = await readFile(path.join(root, "app", template), "utf8");
  await writeFile(
    path.join(outdir, template),
    text.replace(/%SCRIPT%|%STYLES%/g, (name) => names[name]),
  );
}

/** Writes `<file>.br` and `<file>.gz` beside every compressible file of a folder. */
async function compressFolder(folder) {
  for (const name of await readdir(folder)) {
    if (!COMPRESSIBLE.test(name)) continue;
    const content = await readFile(path.join(folder, name));
    const brotli = brotliCompressSync(content, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
      },
    });
    await writeFile(path.join(folder, `${name}.br`), brotli);
    await writeFile(path.join(folder, `${name}.gz`), gzipSync(content, { level: constants.Z_BEST_COMPRESSION }));
  }
}
await compressFolder(outdir);
await compressFolder(assetsDir);
