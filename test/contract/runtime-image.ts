/**
 * The Dockerfile's runtime stage, reproduced without Docker: a folder holding exactly what the stage copies (the
 * production dependencies only, `dist/`, package.json), the stage's ENV and CMD, and its non-root USER when this
 * process may switch to it (it runs as root). The contract test starts the service from there, so a runtime file
 * the image lacks, or a devDependency needed at run time, fails it as it would fail the deployed revision.
 *
 * The stage is read from the Dockerfile itself. An instruction, a COPY source or a USER this file cannot reproduce
 * stops the test, so the reproduction cannot drift from the image unnoticed.
 *
 * Not reproduced: the base image (Node is this machine's, the same major version in CI), its own ENV (PATH and the
 * like, which the service does not read), and .dockerignore (the stage copies from other stages or names its files).
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { runFolder } from "../support/run-folder";

const run = promisify(execFile);

export const REPOSITORY = path.join(__dirname, "..", "..");

export interface RuntimeImage {
  /** The stage's WORKDIR, holding everything the stage copied. */
  dir: string;
  /** The stage's ENV. */
  env: Record<string, string>;
  /** The stage's CMD, with `node` this machine's Node. */
  command: [string, ...string[]];
  /** The stage's USER, when this process runs as root and can switch to it; otherwise undefined (this user). */
  user: { uid: number; gid: number } | undefined;
}

/**
 * What the earlier stages leave where the runtime stage copies from: the command the stage must run to make it, and
 * where this repository has the same thing.
 */
const STAGE_OUTPUTS: Record<string, { madeBy: RegExp; local: () => Promise<string> }> = {
  "deps:/app/node_modules": { madeBy: /\bnpm ci\b.*--omit=dev/, local: () => productionDependencies() },
  // `npm test` builds before jest runs, as the build stage does before the runtime stage copies.
  "build:/app/dist": { madeBy: /\bnpm run build\b/, local: () => Promise.resolve(path.join(REPOSITORY, "dist")) },
};

/** Users of the node base image. */
const IMAGE_USERS: Record<string, { uid: number; gid: number }> = { node: { uid: 1000, gid: 1000 } };

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string | undefined;
  instructions: Instruction[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((line) => line.trim());
  const stages: Stage[] = [];
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) continue;
    const [, keyword = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args };
    if (instruction.keyword === "FROM") stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], instructions: [] });
    else if (stages.length === 0) throw new Error(`Dockerfile: ${keyword} before the first FROM`);
    else stages[stages.length - 1]!.instructions.push(instruction);
  }
  return stages;
}

/**
 * Reproduces the last stage of `dockerfile` in a new folder of this jest run's scratch folder. `alter` changes the
 * image's files before anything runs (the container tests break the image on purpose with it): it may change dist/
 * and package.json, and remove files anywhere, but must not write into node_modules, whose files every image shares.
 */
export async function buildRuntimeImage(
  options: { dockerfile?: string; alter?: (dir: string) => void } = {},
): Promise<RuntimeImage> {
  const stages = parseDockerfile(options.dockerfile ?? readFileSync(path.join(REPOSITORY, "Dockerfile"), "utf8"));
  const runtime = stages[stages.length - 1];
  if (!runtime) throw new Error("Dockerfile: no stage");
  const dir = mkdtempSync(path.join(runFolder(), "image-"));
  chmodSync(dir, 0o755);
  const env: Record<string, string> = {};
  let command: RuntimeImage["command"] | undefined;
  let user: RuntimeImage["user"];
  let workdir = "/";
  const inImage = (target: string) => {
    const relative = path.posix.relative(workdir, path.posix.resolve(workdir, target));
    if (relative.startsWith(".."))
      throw new Error(`Dockerfile: ${target} is outside WORKDIR ${workdir}, which this reproduction holds`);
    return path.join(dir, relative);
  };

  for (const { keyword, args } of runtime.instructions) {
    switch (keyword) {
      case "ENV":
        for (const pair of args.split(/\s+/)) {
          const [name, value] = pair.split("=", 2);
          if (!name || value === undefined)
            throw new Error(`Dockerfile: ENV ${args}: only NAME=value pairs are reproduced`);
          env[name] = value.replace(/^"(.*)"$/, "$1");
        }
        break;
      case "WORKDIR":
        workdir = path.posix.resolve(workdir, args);
        break;
      case "COPY": {
        const words = args.split(/\s+/);
        const from = words[0]?.startsWith("--from=") ? words.shift()!.slice("--from=".length) : undefined;
        const target = words.pop();
        if (!target || words.length === 0 || words.some((word) => word.startsWith("--")))
          throw new Error(`Dockerfile: COPY ${args}: not reproduced`);
        for (const source of words) {
          const local = from === undefined ? path.join(REPOSITORY, source) : await stageOutput(stages, from, source);
          const destination = target.endsWith("/")
            ? path.join(inImage(target), path.basename(source))
            : inImage(target);
          // What this run made itself (the production dependencies) is hard-linked: the same files, ten times faster
          // than a copy. What comes from the repository (dist/) is copied, so that `alter` never reaches it.
          await run("cp", [local.startsWith(runFolder()) ? "-al" : "-a", local, destination]);
        }
        break;
      }
      case "USER":
        if (!IMAGE_USERS[args])
          throw new Error(`Dockerfile: USER ${args}: not a user of the node image this reproduction knows`);
        if (process.getuid?.() === 0) user = IMAGE_USERS[args];
        break;
      case "CMD": {
        const [program, ...rest] = JSON.parse(args) as string[];
        if (program !== "node") throw new Error(`Dockerfile: CMD ${args}: only a node command is reproduced`);
        command = [process.execPath, ...rest];
        break;
      }
      case "EXPOSE":
        // Documentation only: Cloud Run sends traffic to the port the service declares, and sets PORT to it.
        break;
      default:
        throw new Error(
          `Dockerfile: the runtime stage's ${keyword} is not reproduced by test/contract/runtime-image.ts`,
        );
    }
  }
  if (!command) throw new Error("Dockerfile: the runtime stage has no CMD");
  options.alter?.(dir);
  if (user) assertReachableByOthers(dir);
  return { dir, env, command, user };
}

async function stageOutput(stages: Stage[], from: string, source: string): Promise<string> {
  const output = STAGE_OUTPUTS[`${from}:${source}`];
  const stage = stages.find((candidate) => candidate.name === from);
  if (!output || !stage)
    throw new Error(`Dockerfile: COPY --from=${from} ${source}: not an output this reproduction knows`);
  const runs = stage.instructions
    .filter((instruction) => instruction.keyword === "RUN")
    .map((instruction) => instruction.args);
  if (!runs.some((command) => output.madeBy.test(command))) {
    throw new Error(
      `Dockerfile: stage ${from} no longer runs ${output.madeBy.source}, which this reproduction assumes`,
    );
  }
  return output.local();
}

/**
 * `npm ci --omit=dev` as the deps stage runs it, offline from npm's cache (which `npm ci` filled), made once per jest
 * run and shared by every image of the run. Several suites may build it at once: the first to finish keeps its copy.
 */
async function productionDependencies(): Promise<string> {
  const done = path.join(runFolder(), "production-dependencies");
  if (!existsSync(done)) {
    const work = mkdtempSync(`${done}-`);
    for (const file of ["package.json", "package-lock.json"])
      copyFileSync(path.join(REPOSITORY, file), path.join(work, file));
    try {
      await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--offline"], {
        cwd: work,
        env: npmEnvironment(),
      });
    } catch (error) {
      throw new Error(
        `npm ci --omit=dev --offline failed; if npm's cache lacks a package, \`npm ci\` in the repository fills it:\n${(error as { stderr?: string }).stderr ?? String(error)}`,
        { cause: error },
      );
    }
    try {
      renameSync(work, done);
    } catch (error) {
      if (!existsSync(done)) throw error;
      rmSync(work, { recursive: true, force: true });
    }
  }
  return path.join(done, "node_modules");
}

/** This environment without the npm_* variables `npm test` sets (npm_config_omit and the like would change the install). */
function npmEnvironment(): NodeJS.ProcessEnv {
  const keep = new Set(["npm_config_cache", "npm_config_userconfig"]);
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("npm_") || keep.has(name)));
}

/** The image's user must be able to reach the folder: every folder above it must let others through. */
function assertReachableByOthers(dir: string): void {
  for (let folder = dir; folder !== path.dirname(folder); folder = path.dirname(folder)) {
    if ((statSync(folder).mode & 0o001) === 0) {
      throw new Error(
        `${folder} is closed to other users, so the image's user cannot reach ${dir}: point TMPDIR somewhere open, such as /tmp`,
      );
    }
  }
}
