/**
 * One scratch folder per jest run, shared by every suite (each runs in a worker of its own) and deleted when the run
 * ends: it holds what is slow to make and the same for every suite, such as the image's production dependencies.
 * jest's globalSetup creates it before any worker starts, so every worker inherits its path.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const VARIABLE = "WHITEBOARD_TEST_RUN_FOLDER";

export function createRunFolder(): void {
  // Node resolves a module from every node_modules above the importing file: the reproduced image (in this folder)
  // would find the repository's devDependencies and pass where the real image fails.
  for (let dir = path.resolve(tmpdir()); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "node_modules"))) {
      throw new Error(
        `the temporary folder ${tmpdir()} is inside ${dir}, which has a node_modules folder: set TMPDIR elsewhere`,
      );
    }
    if (path.dirname(dir) === dir) break;
  }
  const folder = mkdtempSync(path.join(tmpdir(), "whiteboard-test-run-"));
  // Reachable by the image's non-root user (see test/contract/runtime-image.ts).
  chmodSync(folder, 0o755);
  process.env[VARIABLE] = folder;
}

export function deleteRunFolder(): void {
  const folder = process.env[VARIABLE];
  if (folder) rmSync(folder, { recursive: true, force: true });
}

export function runFolder(): string {
  const folder = process.env[VARIABLE];
  if (!folder)
    throw new Error(`${VARIABLE} is not set: run the tests through jest (jest.config.js's globalSetup creates it)`);
  return folder;
}
