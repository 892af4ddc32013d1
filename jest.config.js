/**
 * Five projects, by what their suites need (docs/development.md): `npx jest --selectProjects unit` runs the fast ones,
 * `npx jest` runs them all. A suite not listed under unit, faults, browser or infra is an integration suite.
 */
const common = {
  testEnvironment: "node",
  // Where suites are looked for (the code they import may be anywhere).
  roots: ["<rootDir>/test"],
  transform: {
    // SWC strips types only; `tsc --noEmit` type-checks the same files in `npm test`.
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }],
  },
};

/**
 * Nothing but Node: no network, no Redis, no child process, no build (dist/), no browser. `make check` runs these.
 * A new suite that needs none of those belongs here.
 */
const UNIT = [
  "test/abuse/client-address.test.ts",
  "test/client/app-geometry.test.ts",
  "test/client/app-identity.test.ts",
  "test/client/app-transfer.test.ts",
  "test/client/board-state.test.ts",
  "test/client/element-geometry.test.ts",
  "test/client/healing.test.ts",
  "test/client/history.test.ts",
  "test/client/outbox.test.ts",
  "test/client/raster.test.ts",
  "test/client/session-logic.test.ts",
  "test/client/shapes.test.ts",
  "test/client/stroke-outline.test.ts",
  "test/client/svg-export.test.ts",
  "test/client/viewport.test.ts",
  "test/protocol/points.test.ts",
  "test/service/board-writer.test.ts",
  "test/service/config.test.ts",
  "test/service/config-docs.test.ts",
  "test/service/cursors.test.ts",
  "test/service/memory-watch.test.ts",
  "test/service/raw-json.test.ts",
  "test/service/replica-wait.test.ts",
  "test/service/token-bucket.test.ts",
];
/** Folders whose suites form a project of their own. */
const FAULTS = "test/faults/";
const BROWSER = "test/browser/";
const INFRA = "test/infra/";

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** @type {import('jest').Config} */
module.exports = {
  // Global, not per project: jest reads it only here when there are projects (inside one, it is ignored).
  testTimeout: 30_000,
  // A scratch folder shared by the suites of one run (test/support/run-folder.ts).
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
  projects: [
    { ...common, displayName: "unit", testMatch: UNIT.map((file) => `<rootDir>/${file}`) },
    {
      // Real Redis (the local Memorystore stand-ins, the Redis Cluster stand-in) and service instances started from
      // the build (dist/: `npm run build` first), on 127.0.0.1; the contract suites also synthesize the stacks.
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: [...UNIT, FAULTS, BROWSER, INFRA].map((path) => `<rootDir>/${escape(path)}`),
    },
    // Three instances, Redis and the Cloud Run-like front, killed and restarted on purpose (the build too).
    { ...common, displayName: "faults", testMatch: [`<rootDir>/${FAULTS}**/*.test.ts`] },
    // Debian's Chromium (CHROMIUM_PATH), instances and Redis (the build too).
    { ...common, displayName: "browser", testMatch: [`<rootDir>/${BROWSER}**/*.test.ts`] },
    // cdktf synth and the infra scripts: no network, no Redis, no build.
    { ...common, displayName: "infra", testMatch: [`<rootDir>/${INFRA}**/*.test.ts`] },
  ],
};
