/**
 * The comparison servers (bench/baseline/server.ts, bench/scale/plain-server.ts) compiled into plain JavaScript
 * under dist/bench/ before a run, so that they start and run as ours does (node on built JavaScript): started
 * through tsx, three of them took longer than an instance's 15 s start-up allowance on a loaded machine.
 */
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.join(__dirname, "..", "..");

/** Compiles `entry` (relative to bench/) and returns the node arguments that start it. */
export async function compiledServer(entry: string): Promise<string[]> {
  const outfile = path.join(ROOT, "dist", "bench", entry.replace(/\.ts$/, ".js"));
  await build({
    entryPoints: [path.join(ROOT, "bench", entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // npm packages stay imports, resolved from the repository's node_modules as ours' are.
    packages: "external",
    logLevel: "warning",
  });
  return [outfile];
}
