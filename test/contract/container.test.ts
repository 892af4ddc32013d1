/**
 * The image's runtime stage reproduced without Docker (./runtime-image.ts) is the image: it follows the Dockerfile or
 * stops, holds the production dependencies only, runs as the image's non-root user, and a deployment from it fails
 * when the image would fail: a devDependency needed at run time, a runtime file missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { RedisServer } from "../../local/redis-server";
import { BASE_INPUT } from "../infra/helpers";
import { startContainer } from "./cloud-run-container";
import { resolveForStandIn, standInValues, synthesizeService, type SynthesizedService } from "./cloud-run-env";
import { deployLocally } from "./deploy";
import { buildRuntimeImage, REPOSITORY, type RuntimeImage } from "./runtime-image";

const DOCKERFILE = readFileSync(path.join(REPOSITORY, "Dockerfile"), "utf8");
const packageJson = JSON.parse(readFileSync(path.join(REPOSITORY, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const lockfile = JSON.parse(readFileSync(path.join(REPOSITORY, "package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean }>;
};
const asRoot = process.getuid?.() === 0;

let redis: RedisServer;
let image: RuntimeImage;
let dev: SynthesizedService;

beforeAll(async () => {
  [redis, image] = await Promise.all([new RedisServer().start(), buildRuntimeImage()]);
  dev = synthesizeService({ ...BASE_INPUT });
}, 60_000);

afterAll(async () => {
  await redis?.destroy();
});

/** The Dockerfile with `line` early in its runtime stage (after its WORKDIR, before anything slow). */
const inRuntimeStage = (line: string) =>
  DOCKERFILE.replace(/^WORKDIR \/app$(?![^]*^WORKDIR)/m, `WORKDIR /app\n${line}`);

describe("the reproduction follows the Dockerfile, or stops", () => {
  test.each([
    [
      "an instruction it cannot reproduce",
      inRuntimeStage("RUN apt-get install -y curl"),
      /runtime stage's RUN is not reproduced/,
    ],
    [
      "a COPY from a stage output it does not know",
      DOCKERFILE.replace("--from=deps /app/node_modules ./node_modules", "--from=deps /app/lib ./lib"),
      /COPY --from=deps \/app\/lib: not an output/,
    ],
    [
      "a deps stage that no longer omits devDependencies",
      DOCKERFILE.replace("npm ci --omit=dev", "npm ci"),
      /stage deps no longer runs/,
    ],
    ["a user of another base image", inRuntimeStage("USER app"), /USER app: not a user of the node image/],
  ])("%s", async (_, dockerfile, message) => {
    expect(dockerfile).not.toBe(DOCKERFILE);
    await expect(buildRuntimeImage({ dockerfile })).rejects.toThrow(message);
  });

  test("it takes the stage's ENV and CMD", () => {
    expect(image.env).toEqual({ NODE_ENV: "production", PORT: "8080" });
    expect(image.command).toEqual([process.execPath, "dist/service/main.js"]);
  });
});

test("the image holds the production dependencies, and none of the packages only development needs", () => {
  const installed = (name: string) => existsSync(path.join(image.dir, "node_modules", name, "package.json"));
  expect(Object.keys(packageJson.dependencies).filter((name) => !installed(name))).toEqual([]);
  // A devDependency may also be needed by a production one (@types/node is): the lockfile marks those that are not.
  const developmentOnly = Object.entries(lockfile.packages)
    .filter(([location, entry]) => entry.dev && location.lastIndexOf("node_modules/") === 0)
    .map(([location]) => location.slice("node_modules/".length));
  expect(developmentOnly).toEqual(expect.arrayContaining(["typescript", "jest", "fast-check"]));
  expect(developmentOnly.filter(installed)).toEqual([]);
  expect(readFileSync(path.join(image.dir, "package.json"), "utf8")).toBe(
    readFileSync(path.join(REPOSITORY, "package.json"), "utf8"),
  );
});

(asRoot ? test : test.skip)(
  "the service runs as the image's user (uid 1000), who cannot change the image's files",
  async () => {
    const env = resolveForStandIn(dev, standInValues(redis));
    const container = await startContainer(image, env, { service: dev.name, name: "instance-a" });
    try {
      const status = readFileSync(`/proc/${container.pid}/status`, "utf8");
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe("1000");
    } finally {
      await container.stop();
    }
    const write = spawnSync(process.execPath, ["-e", "require('fs').appendFileSync('dist/service/main.js', '//')"], {
      cwd: image.dir,
      uid: 1000,
      gid: 1000,
      encoding: "utf8",
    });
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain("EACCES");
  },
);

test("a devDependency imported at run time stops the deployment", async () => {
  // fast-check is a devDependency: the repository's node_modules has it, the image must not.
  expect(() => require.resolve("fast-check", { paths: [REPOSITORY] })).not.toThrow();
  const broken = await buildRuntimeImage({
    alter: (dir) => {
      const main = path.join(dir, "dist", "service", "main.js");
      writeFileSync(main, `require("fast-check");\n${readFileSync(main, "utf8")}`);
    },
  });
  await expect(deployLocally(dev, redis, broken)).rejects.toThrow(
    /exited \(1\): Error: Cannot find module 'fast-check'/,
  );
});

test.each([
  ["a module of the service", "dist/service/raw-json.js", /exited \(1\): Error: Cannot find module '\.\/raw-json'/],
  ["the browser client", "dist/client", /GET \/ answered 503: the browser client is not built/],
])("a runtime file missing from the image stops the deployment: %s", async (_, file, message) => {
  const broken = await buildRuntimeImage({ alter: (dir) => rmSync(path.join(dir, file), { recursive: true }) });
  await expect(deployLocally(dev, redis, broken)).rejects.toThrow(message);
});
