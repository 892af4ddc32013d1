/**
 * The deployment scripts, run for real with stubs on PATH standing in for cdktf and gcloud. Each stub answers a call
 * with the next scripted response (an output text and an exit code) and records its arguments. The error texts are
 * the ones Terraform, the Google provider, Cloud Build and gcloud print (see the comments of each script).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.join(__dirname, "../..");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A stub command: the n-th call of `<key>` prints `<dir>/<key>.<n>` (or `<key>.default`) and exits with its `.code`. */
const STUB = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$STUB_DIR/calls"
key="$(stub_key "$@")"
n=$(( $(cat "$STUB_DIR/$key.count" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$STUB_DIR/$key.count"
file="$STUB_DIR/$key.$n"
[ -f "$file" ] || file="$STUB_DIR/$key.default"
[ -f "$file" ] || exit 0
cat "$file"
exit "$(cat "$file.code" 2>/dev/null || echo 0)"
`;

interface Stub {
  readonly dir: string;
  /** Scripts the n-th answer (1-based) of `key`, or its default answer with n = "default". */
  answer(key: string, n: number | "default", output: string, code: number): void;
  /** Every recorded call, one argument string per call. */
  calls(): string[];
}

/** A temporary folder with `command` on a PATH of its own; `keyFunction` is bash that names the answer of a call. */
function stub(command: string, keyFunction: string): Stub {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-scripts-"));
  made.push(dir);
  fs.mkdirSync(path.join(dir, "bin"));
  const file = path.join(dir, "bin", command);
  fs.writeFileSync(file, STUB.replace('key="$(stub_key "$@")"', `stub_key() { ${keyFunction}; }\nkey="$(stub_key "$@")"`), { mode: 0o755 });
  return {
    dir,
    answer(key, n, output, code) {
      fs.writeFileSync(path.join(dir, `${key}.${n}`), output);
      fs.writeFileSync(path.join(dir, `${key}.${n}.code`), String(code));
    },
    calls() {
      const log = path.join(dir, "calls");
      return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    },
  };
}

/** Variables the scripts read from the caller; the tests' own environment must not leak into them. */
const SETTINGS = ["ENVIRONMENT", "PROJECT_ID", "GOOGLE_CLOUD_PROJECT", "REGION", "STATE_BUCKET", "DOMAINS", "IMAGE", "DELETION_PROTECTION", "OVERRIDE", "INFRA_CONFIG"];

function run(script: string, env: Record<string, string>, stubbed: Stub, cwd = REPO): { status: number | null; output: string } {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.includes(name)));
  const result = spawnSync("bash", [script], {
    cwd,
    env: { ...inherited, ...env, STUB_DIR: stubbed.dir, PATH: `${path.join(stubbed.dir, "bin")}:${process.env.PATH ?? ""}` },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("bootstrap.sh enables the environment's APIs and waits until they answer", () => {
  const BOOTSTRAP = path.join(REPO, "infra/scripts/bootstrap.sh");
  // Calls are keyed by the command without flags, e.g. "redis instances list".
  const gcloud = () => stub("gcloud", 'local words=(); for a in "$@"; do case "$a" in -*) ;; *) words+=("$a") ;; esac; done; echo "${words[*]:0:3}" | tr " " "-"');
  const NOT_YET =
    "ERROR: (gcloud.redis.instances.list) PERMISSION_DENIED: Google Cloud Memorystore for Redis API has not been used in project p-123456 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/redis.googleapis.com/overview?project=p-123456 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.\n";

  test("enables every API of the environment file in one call, then waits for the slow one", () => {
    const stubbed = gcloud();
    stubbed.answer("redis-instances-list", 1, NOT_YET, 1);
    stubbed.answer("redis-instances-list", 2, NOT_YET, 1);
    const result = run(BOOTSTRAP, { ENVIRONMENT: "dev", PROJECT_ID: "p-123456", BOOTSTRAP_PROBE_INTERVAL: "0" }, stubbed);
    expect(result.status).toBe(0);
    const enables = stubbed.calls().filter((call) => call.startsWith("services enable"));
    expect(enables[0]).toBe("services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com --project=p-123456 --quiet");
    expect(enables[1]).toBe(
      "services enable artifactregistry.googleapis.com cloudbuild.googleapis.com cloudresourcemanager.googleapis.com compute.googleapis.com iam.googleapis.com redis.googleapis.com run.googleapis.com secretmanager.googleapis.com storage.googleapis.com vpcaccess.googleapis.com --project=p-123456 --quiet",
    );
    expect(stubbed.calls().filter((call) => call.startsWith("redis instances list"))).toHaveLength(3);
    expect(stubbed.calls().filter((call) => call.startsWith("compute networks vpc-access connectors list"))).toHaveLength(1);
    expect(result.output).toContain("waiting for redis.googleapis.com to answer");
    expect(result.output).toContain("every API of dev answers in p-123456");
    // No state bucket in the file: none is created.
    expect(stubbed.calls().some((call) => call.startsWith("storage buckets create"))).toBe(false);
  });

  test("gives up after BOOTSTRAP_WAIT_SECONDS, naming the APIs that still refuse", () => {
    const stubbed = gcloud();
    stubbed.answer("run-services-list", "default", "ERROR: (gcloud.run.services.list) PERMISSION_DENIED: Cloud Run Admin API has not been used in project p-123456 before or it is disabled.\n", 1);
    const result = run(BOOTSTRAP, { ENVIRONMENT: "dev", PROJECT_ID: "p-123456", BOOTSTRAP_PROBE_INTERVAL: "0", BOOTSTRAP_WAIT_SECONDS: "0" }, stubbed);
    expect(result.status).toBe(1);
    expect(result.output).toContain("these APIs still refuse calls: run.googleapis.com");
  });

  test("refuses a command line that contradicts the environment file before calling gcloud", () => {
    const stubbed = gcloud();
    const result = run(BOOTSTRAP, { ENVIRONMENT: "dev", PROJECT_ID: "p-123456", REGION: "europe-west1" }, stubbed);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("REGION: contradicts the environment file");
    expect(stubbed.calls()).toEqual([]);
  });
});
