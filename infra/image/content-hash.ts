/**
 * Deterministic content hash of a Docker build context, computed at synth time.
 *
 * The hash covers, for every regular file under the listed entries (sorted by relative POSIX path, compared by code
 * unit so no locale is involved): its relative path, whether it is executable, and its bytes. Absolute paths, mtimes,
 * owners and directory order never enter it, so two checkouts of the same commit hash the same on any machine.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The files and folders the service image is built from (paths relative to the repository root). */
export const DEFAULT_CONTEXT_ENTRIES = [
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "service",
  "protocol",
  "client",
] as const;

/**
 * Directory names skipped at any depth: build output and dependencies that the Dockerfile recreates. The image-build
 * script excludes the same names when it packs the context, so the hash matches what is uploaded.
 */
export const EXCLUDED_DIRECTORY_NAMES = [
  "node_modules",
  "dist",
  ".git",
  "coverage",
  "cdktf.out",
  ".gen",
  ".terraform",
  ".tmp",
] as const;

/** Result of {@link hashBuildContext}. */
export interface BuildContextHash {
  /** Hex SHA-256 over the context. */
  readonly sha256: string;
  /** The listed entries that exist, in the order given (what the build script packs). */
  readonly entries: readonly string[];
  /** Every hashed file, sorted, relative to the root with `/` separators. */
  readonly files: readonly string[];
}

function collect(root: string, relative: string, out: string[]): void {
  const absolute = path.join(root, relative);
  const stat = fs.lstatSync(absolute);
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(absolute)) {
      if ((EXCLUDED_DIRECTORY_NAMES as readonly string[]).includes(name)) continue;
      collect(root, `${relative}/${name}`, out);
    }
  } else if (stat.isFile() || stat.isSymbolicLink()) {
    out.push(relative);
  }
  // Sockets, FIFOs and devices are not part of a build context.
}

/**
 * Hashes the given entries of `root`. Missing entries are skipped (and left out of `entries`).
 * @param root directory the entries are relative to (read at synth time; never written to the output)
 * @param entries files or folders relative to `root`, e.g. {@link DEFAULT_CONTEXT_ENTRIES}
 */
export function hashBuildContext(root: string, entries: readonly string[] = DEFAULT_CONTEXT_ENTRIES): BuildContextHash {
  const present: string[] = [];
  const files: string[] = [];
  for (const entry of entries) {
    const normalized = entry.replace(/\\/g, "/").replace(/\/+$/, "");
    if (normalized === "" || normalized.startsWith("/") || normalized.split("/").includes("..")) {
      throw new Error(`build context entry must be a relative path inside the context (got "${entry}")`);
    }
    if (!fs.existsSync(path.join(root, normalized))) continue;
    present.push(normalized);
    collect(root, normalized, files);
  }
  const sorted = [...new Set(files)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const file of sorted) {
    const absolute = path.join(root, file);
    const stat = fs.lstatSync(absolute);
    const kind = stat.isSymbolicLink() ? "l" : stat.mode & 0o111 ? "x" : "f";
    const content = stat.isSymbolicLink() ? Buffer.from(fs.readlinkSync(absolute)) : fs.readFileSync(absolute);
    hash.update(`${file}\0${kind}\0${content.length}\0`);
    hash.update(content);
    hash.update("\0");
  }
  return { sha256: hash.digest("hex"), entries: present, files: sorted };
}
