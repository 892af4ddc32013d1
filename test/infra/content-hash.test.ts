/**
 * The image tag is a content hash of the build context: it must depend on relative paths, contents and the
 * executable bit only (never on where the checkout lives, mtimes or creation order), and the build script must upload
 * exactly the files that were hashed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { DEFAULT_CONTEXT_ENTRIES, EXCLUDED_DIRECTORY_NAMES, hashBuildContext } from "../../infra/image/content-hash";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (relative path -> content) into a fresh temporary directory, in the given order. */
function tree(files: ReadonlyArray<readonly [string, string]>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "infra-hash-"));
  made.push(root);
  for (const [relative, content] of files) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }
  return root;
}

const BASE_FILES: Array<[string, string]> = [
  ["Dockerfile", "FROM node:20-bookworm-slim\n"],
  ["package.json", '{"name":"x"}\n'],
  ["service/main.ts", "export const a = 1;\n"],
  ["service/lib/util.ts", "export const b = 2;\n"],
  ["client/index.html", "<title>x</title>\n"],
];

test("the same content in two places with different mtimes hashes the same", () => {
  const a = tree(BASE_FILES);
  const b = tree([...BASE_FILES].reverse());
  fs.utimesSync(path.join(b, "service/main.ts"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  expect(hashBuildContext(a).sha256).toBe(hashBuildContext(b).sha256);
  expect(hashBuildContext(a).files).toEqual([
    "Dockerfile",
    "client/index.html",
    "package.json",
    "service/lib/util.ts",
    "service/main.ts",
  ]);
  expect(hashBuildContext(a).entries).toEqual(["Dockerfile", "package.json", "service", "client"]);
});

test("a changed byte, a renamed file, an added file or the executable bit changes the hash", () => {
  const base = hashBuildContext(tree(BASE_FILES)).sha256;
  const changed = BASE_FILES.map(([p, c]): [string, string] => [p, p === "service/main.ts" ? c.replace("1", "2") : c]);
  expect(hashBuildContext(tree(changed)).sha256).not.toBe(base);
  const renamed = BASE_FILES.map(([p, c]): [string, string] => [p === "service/main.ts" ? "service/index.ts" : p, c]);
  expect(hashBuildContext(tree(renamed)).sha256).not.toBe(base);
  expect(hashBuildContext(tree([...BASE_FILES, ["protocol/events.ts", "x"]])).sha256).not.toBe(base);
  const executable = tree(BASE_FILES);
  fs.chmodSync(path.join(executable, "service/main.ts"), 0o755);
  expect(hashBuildContext(executable).sha256).not.toBe(base);
});

test("moving content between two files changes the hash (lengths are framed)", () => {
  const a = hashBuildContext(
    tree([
      ["Dockerfile", "ab"],
      ["package.json", "c"],
    ]),
  ).sha256;
  const b = hashBuildContext(
    tree([
      ["Dockerfile", "a"],
      ["package.json", "bc"],
    ]),
  ).sha256;
  expect(a).not.toBe(b);
});

test("build output, dependencies and files outside the entries do not count", () => {
  const base = hashBuildContext(tree(BASE_FILES)).sha256;
  const noisy = tree([
    ...BASE_FILES,
    ...EXCLUDED_DIRECTORY_NAMES.map((name): [string, string] => [`service/${name}/junk.js`, "junk"]),
    ["node_modules/left-pad/index.js", "x"],
    ["dist/service/main.js", "x"],
    ["README.md", "not in the context"],
    ["infra/main.ts", "not in the context"],
  ]);
  expect(hashBuildContext(noisy).sha256).toBe(base);
});

test("entries must be relative paths inside the context", () => {
  const root = tree(BASE_FILES);
  expect(() => hashBuildContext(root, ["../outside"])).toThrow("relative path inside the context");
  expect(() => hashBuildContext(root, ["/etc"])).toThrow("relative path inside the context");
});

test("the default entries are the Dockerfile's inputs", () => {
  expect(DEFAULT_CONTEXT_ENTRIES).toEqual(
    expect.arrayContaining([
      "Dockerfile",
      ".dockerignore",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "service",
      "protocol",
      "client",
    ]),
  );
});

test("property: creation order never matters and any single content change does", () => {
  const fileName = fc
    .tuple(fc.constantFrom("service", "service/lib", "client"), fc.stringMatching(/^[a-z]{1,8}$/))
    .map(([dir, base]) => `${dir}/${base}.ts`);
  const files = fc.uniqueArray(fc.tuple(fileName, fc.string({ maxLength: 20 })), {
    minLength: 1,
    maxLength: 6,
    selector: ([name]) => name,
  });
  fc.assert(
    fc.property(files, fc.nat(), (entries, pick) => {
      const a = hashBuildContext(tree(entries)).sha256;
      expect(hashBuildContext(tree([...entries].reverse())).sha256).toBe(a);
      const index = pick % entries.length;
      const mutated = entries.map(([name, content], i): [string, string] => [
        name,
        i === index ? `${content}!` : content,
      ]);
      expect(hashBuildContext(tree(mutated)).sha256).not.toBe(a);
    }),
    { numRuns: 25 },
  );
});

test("the build script packs exactly the hashed files", () => {
  const root = tree([
    ...BASE_FILES,
    ["service/node_modules/x.js", "x"],
    ["client/dist/app.js", "x"],
    ["service/.tmp/t", "x"],
  ]);
  const hashed = hashBuildContext(root);
  const archive = path.join(root, "..", `${path.basename(root)}.tgz`);
  made.push(archive);
  // The same tar invocation as infra/image/build-image.sh.
  execFileSync(
    "tar",
    ["-czf", archive, ...EXCLUDED_DIRECTORY_NAMES.map((name) => `--exclude=${name}`), "--", ...hashed.entries],
    {
      cwd: root,
      env: { ...process.env, COPYFILE_DISABLE: "1" },
    },
  );
  const listed = execFileSync("tar", ["-tzf", archive], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line !== "" && !line.endsWith("/"))
    .sort();
  expect(listed).toEqual([...hashed.files]);
  const script = fs.readFileSync(path.join(__dirname, "../../infra/image/build-image.sh"), "utf8");
  expect(script).toContain('tar -czf "$workdir/context.tgz" "${excludes[@]}" -- "${entries[@]}"');
});
