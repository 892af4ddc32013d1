/**
 * The deployment scripts, run for real with stubs on PATH standing in for cdktf and gcloud. Each stub answers a call
 * with the next scripted response (an output text and an exit code) and records its arguments. The error texts are
 * the ones Terraform, the Google provider, Cloud Build and gcloud print (see the comments of each script).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.join(__dirname, "../..");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A stub command: the n-th call of `<key>` prints `<dir>/<key>.<n>` (or `<key>.default`) and exits with its `.code`.
 * Builtins only, but for one `cat`: the scripts under test call it dozens of times.
 */
const STUB = `#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$STUB_DIR/calls"
KEY
n=0
[ -f "$STUB_DIR/$key.count" ] && read -r n <"$STUB_DIR/$key.count"
n=$((n + 1))
printf '%s\\n' "$n" >"$STUB_DIR/$key.count"
file="$STUB_DIR/$key.$n"
[ -f "$file" ] || file="$STUB_DIR/$key.default"
[ -f "$file" ] || exit 0
cat "$file"
code=0
[ -f "$file.code" ] && read -r code <"$file.code"
exit "$code"
`;

interface Stub {
  readonly dir: string;
  /** Scripts the n-th answer (1-based) of `key`, or its default answer with n = "default". */
  answer(key: string, n: number | "default", output: string, code: number): void;
  /** Every recorded call, one argument string per call. */
  calls(): string[];
}

/** A temporary folder with `command` on a PATH of its own; `setKey` is bash that sets `key`, naming the answer of a call. */
function stub(command: string, setKey: string): Stub {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-scripts-"));
  made.push(dir);
  fs.mkdirSync(path.join(dir, "bin"));
  const file = path.join(dir, "bin", command);
  fs.writeFileSync(file, STUB.replace("KEY", setKey), { mode: 0o755 });
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
const SETTINGS = [
  "ENVIRONMENT",
  "PROJECT_ID",
  "GOOGLE_CLOUD_PROJECT",
  "REGION",
  "STATE_BUCKET",
  "DOMAINS",
  "IMAGE",
  "DELETION_PROTECTION",
  "OVERRIDE",
  "INFRA_CONFIG",
];

/**
 * Runs a script to its end; stdout and stderr together, in order. Asynchronous, so the tests (each with its own stub
 * folder) run concurrently and the scripts' processes use both cores.
 */
function run(
  script: string,
  env: Record<string, string>,
  stubbed: Stub,
  cwd = REPO,
): Promise<{ status: number | null; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.includes(name)));
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], {
      cwd,
      env: {
        ...inherited,
        ...env,
        STUB_DIR: stubbed.dir,
        PATH: `${path.join(stubbed.dir, "bin")}:${process.env.PATH ?? ""}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 20_000,
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("destroy.sh retries only the in-use errors Google clears by itself", () => {
  const DESTROY = path.join(REPO, "infra/scripts/destroy.sh");
  // cdktf prints Terraform's diagnostics under the stack name, then its own closing line.
  const terraformError = (stack: string, summary: string, detail = "") =>
    `${stack}  google_compute_network.vpc_vpc_1A2B3C4D: Destroying... [id=projects/p-123456/global/networks/whiteboard-dev-vpc]\n` +
    `${stack}  ╷\n                │ Error: ${summary}\n                │ \n${detail ? `                │ ${detail}\n` : ""}                ╵\n` +
    "Error: Invoking Terraform CLI failed with exit code 1\n";
  const SUBNET_HELD = terraformError(
    "dev-foundation",
    "Error waiting for Deleting Subnetwork: The subnetwork resource 'projects/p-123456/regions/us-central1/subnetworks/whiteboard-dev-run' is already being used by 'projects/p-123456/regions/us-central1/addresses/serverless-ipv4-17234982374932874'",
  );
  const CONNECTOR_FIREWALL = terraformError(
    "dev-foundation",
    "Error waiting for Deleting Network: The network resource 'projects/p-123456/global/networks/whiteboard-dev-vpc' is already being used by 'projects/p-123456/global/firewalls/aet-uscentral1-whiteboard--dev-egrfw'",
  );
  const PREVENT_DESTROY = terraformError(
    "prod-foundation",
    "Instance cannot be destroyed",
    "Resource google_redis_instance.redis_instance_5C7E0A1B has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed.",
  );
  const PERMISSION_DENIED = terraformError(
    "dev-foundation",
    "Error when reading or editing Network \"projects/p-123456/global/networks/whiteboard-dev-vpc\": googleapi: Error 403: Required 'compute.networks.delete' permission for 'projects/p-123456/global/networks/whiteboard-dev-vpc', forbidden",
  );
  const SERVICE_PROTECTED = terraformError(
    "prod-app",
    "cannot destroy service without setting deletion_protection=false and running `terraform apply`",
  );
  // The stack is the second argument: `cdktf destroy <stack> --auto-approve ...`.
  const cdktf = () => stub("cdktf", 'key="$2"');
  const env = (environment = "dev", extra: Record<string, string> = {}) => ({
    ENVIRONMENT: environment,
    CDKTF: "cdktf",
    DESTROY_RETRY_SECONDS: "0",
    DESTROY_WAIT_MINUTES: "150",
    ...extra,
  });
  const foundationCalls = (stubbed: Stub, environment = "dev") =>
    stubbed.calls().filter((call) => call.startsWith(`destroy ${environment}-foundation`));

  test.concurrent("destroys the app, then the foundation, once each when nothing fails", async () => {
    const stubbed = cdktf();
    const result = await run(DESTROY, env(), stubbed);
    expect(result.status).toBe(0);
    expect(stubbed.calls()).toEqual([
      "destroy dev-app --auto-approve",
      "destroy dev-foundation --auto-approve --ignore-missing-stack-dependencies --skip-synth",
    ]);
    expect(result.output).toContain("destroy: dev is gone");
  });

  test.concurrent("a Direct VPC subnet Cloud Run still holds is retried until it is released", async () => {
    const stubbed = cdktf();
    stubbed.answer("dev-foundation", 1, SUBNET_HELD, 1);
    stubbed.answer("dev-foundation", 2, SUBNET_HELD, 1);
    const result = await run(DESTROY, env(), stubbed);
    expect(result.status).toBe(0);
    expect(foundationCalls(stubbed)).toHaveLength(3);
    expect(result.output).toContain("attempt 2 hit a resource Google releases later");
  });

  test.concurrent("a connector's firewall rules still in use are retried", async () => {
    const stubbed = cdktf();
    stubbed.answer("dev-foundation", 1, CONNECTOR_FIREWALL, 1);
    const result = await run(DESTROY, env(), stubbed);
    expect(result.status).toBe(0);
    expect(foundationCalls(stubbed)).toHaveLength(2);
  });

  // Memorystore's peering outlives the instance for a while (GoogleCloudPlatform/magic-modules#18476: "producers can
  // hold them for a while after the service instance itself is deleted"); the cluster's PSC subnet is held by its
  // endpoints' forwarding rules meanwhile (infra/README.md, "What destroy removes").
  test.concurrent.each([
    [
      "Memorystore's redis-peer peering",
      "Error waiting for Deleting Network: The network resource 'projects/p-123456/global/networks/whiteboard-dev-vpc' is already being used by 'projects/p-123456/global/networks/whiteboard-dev-vpc/peerings/redis-peer-398572934'",
    ],
    [
      "the cluster's PSC subnet",
      "Error waiting for Deleting Subnetwork: The subnetwork resource 'projects/p-123456/regions/us-central1/subnetworks/whiteboard-dev-redis-psc' is already being used by 'projects/p-123456/regions/us-central1/forwardingRules/sca-auto-fr-1234abcd'",
    ],
  ])("%s still in use is retried", async (_name, summary) => {
    const stubbed = cdktf();
    stubbed.answer("dev-foundation", 1, terraformError("dev-foundation", summary), 1);
    const result = await run(DESTROY, env(), stubbed);
    expect(result.status).toBe(0);
    expect(foundationCalls(stubbed)).toHaveLength(2);
  });

  test.concurrent("past DESTROY_WAIT_MINUTES a transient error stops with how to resume", async () => {
    const stubbed = cdktf();
    stubbed.answer("dev-foundation", "default", SUBNET_HELD, 1);
    const result = await run(DESTROY, env("dev", { DESTROY_WAIT_MINUTES: "0" }), stubbed);
    expect(result.status).toBe(1);
    expect(foundationCalls(stubbed)).toHaveLength(1);
    expect(result.output).toContain("still has resources Google holds after 0 minutes");
    expect(result.output).toContain("run 'make destroy ENV=dev' again later");
  });

  test.concurrent.each<[string, string, string, string[]]>([
    [
      "Redis prevent_destroy",
      "prod",
      PREVENT_DESTROY,
      ["lifecycle.prevent_destroy", "DELETION_PROTECTION=false OVERRIDE=DELETION_PROTECTION"],
    ],
    ["permission denied", "dev", PERMISSION_DENIED, ["permission denied", "Roles needed to deploy"]],
    [
      "an unknown error",
      "dev",
      terraformError(
        "dev-foundation",
        "Error waiting for Deleting Instance: Internal error. Please try again or contact Google Support. (Code: 'INTERNAL')",
      ),
      ["not one of the known transient errors"],
    ],
    [
      "an in-use error of another resource",
      "dev",
      terraformError(
        "dev-foundation",
        "Error waiting for Deleting Network: The network resource 'projects/p-123456/global/networks/whiteboard-dev-vpc' is already being used by 'projects/p-123456/zones/us-central1-a/instances/my-vm'",
      ),
      ["not one of the known transient errors"],
    ],
    ["a transient error next to a permanent one", "dev", SUBNET_HELD + PERMISSION_DENIED, ["permission denied"]],
  ])("%s in the foundation fails at once, saying what to do", async (_name, environment, output, fragments) => {
    const stubbed = cdktf();
    stubbed.answer(`${environment}-foundation`, "default", output, 1);
    const result = await run(DESTROY, env(environment), stubbed);
    expect(result.status).toBe(1);
    expect(foundationCalls(stubbed, environment)).toHaveLength(1);
    expect(result.output).toContain("waiting cannot fix; not retried");
    for (const fragment of fragments) expect(result.output).toContain(fragment);
  });

  test.concurrent("the app's deletion protection fails at once, before the foundation is touched", async () => {
    const stubbed = cdktf();
    stubbed.answer("prod-app", "default", SERVICE_PROTECTED, 1);
    const result = await run(DESTROY, env("prod"), stubbed);
    expect(result.status).toBe(1);
    expect(stubbed.calls()).toEqual(["destroy prod-app --auto-approve"]);
    expect(result.output).toContain("deletion protection is on");
    expect(result.output).toContain("make deploy  ENV=prod DELETION_PROTECTION=false OVERRIDE=DELETION_PROTECTION");
  });
});

describe("wait-for-metric.sh waits, bounded, until Cloud Monitoring knows a new log-based metric", () => {
  const WAIT = path.join(REPO, "infra/scripts/wait-for-metric.sh");
  // curl prints the HTTP status (its --write-out); gcloud prints a token.
  const tools = () => {
    const stubbed = stub("curl", 'key="curl"');
    fs.writeFileSync(path.join(stubbed.dir, "bin", "gcloud"), "#!/usr/bin/env bash\necho token-1\n", { mode: 0o755 });
    return stubbed;
  };
  const env = (extra: Record<string, string> = {}) => ({
    PROJECT_ID: "p-123456",
    METRIC_TYPE: "logging.googleapis.com/user/whiteboard-dev-error-logs",
    METRIC_WAIT_INTERVAL: "0",
    ...extra,
  });

  test.concurrent("404 while the metric propagates, then 200: done, asking the metric's descriptor", async () => {
    const stubbed = tools();
    stubbed.answer("curl", 1, "404", 0);
    stubbed.answer("curl", 2, "503", 0);
    stubbed.answer("curl", 3, "200", 0);
    const result = await run(WAIT, env(), stubbed);
    expect(result.status).toBe(0);
    expect(stubbed.calls()).toHaveLength(3);
    expect(stubbed.calls()[0]).toContain(
      "https://monitoring.googleapis.com/v3/projects/p-123456/metricDescriptors/logging.googleapis.com%2Fuser%2Fwhiteboard-dev-error-logs",
    );
    expect(stubbed.calls()[0]).toContain("Authorization: Bearer token-1");
    expect(result.output).toContain("Cloud Monitoring knows logging.googleapis.com/user/whiteboard-dev-error-logs");
  });

  test.concurrent("still unknown after METRIC_WAIT_SECONDS: fails, saying to deploy again", async () => {
    const stubbed = tools();
    stubbed.answer("curl", "default", "404", 0);
    const result = await run(WAIT, env({ METRIC_WAIT_SECONDS: "0" }), stubbed);
    expect(result.status).toBe(1);
    expect(result.output).toContain("still unknown to Cloud Monitoring after 0s");
  });

  test.concurrent("403 is not waited for", async () => {
    const stubbed = tools();
    stubbed.answer("curl", "default", "403", 0);
    const result = await run(WAIT, env(), stubbed);
    expect(result.status).toBe(1);
    expect(stubbed.calls()).toHaveLength(1);
    expect(result.output).toContain("answered HTTP 403");
  });
});

describe("build-image.sh retries only IAM propagation; a failing build fails once, with its log", () => {
  const BUILD = path.join(REPO, "infra/image/build-image.sh");
  const ACCOUNT = "whiteboard-dev-build@p-123456.iam.gserviceaccount.com";
  const ID = "0f3c2a8e-1b2c-4d5e-9f00-123456789abc";
  const created = `Uploading tarball of [context.tgz] to [gs://p-123456-whiteboard-dev-build/source/1717078378.32-d8ace147e8aa4b8e.tgz]
Created [https://cloudbuild.googleapis.com/v1/projects/p-123456/locations/us-central1/builds/${ID}].
Logs are available at [ https://console.cloud.google.com/cloud-build/builds;region=us-central1/${ID}?project=123456789 ].
`;
  const failed = `ERROR: (gcloud.builds.submit) build ${ID} completed with status "FAILURE"\n`;
  const PUSH_DENIED = `${created}----- REMOTE BUILD OUTPUT -----
starting build "${ID}"
FETCHSOURCE
BUILD
Successfully built 3f1e2d
PUSH
The push refers to repository [us-central1-docker.pkg.dev/p-123456/whiteboard-dev/whiteboard]
denied: Permission "artifactregistry.repositories.uploadArtifacts" denied on resource "projects/p-123456/locations/us-central1/repositories/whiteboard-dev" (or it may not exist)
ERROR
${failed}`;
  const SOURCE_DENIED = `${created}----- REMOTE BUILD OUTPUT -----
starting build "${ID}"
FETCHSOURCE
Fetching storage object: gs://p-123456-whiteboard-dev-build/source/1717078378.32-d8ace147e8aa4b8e.tgz#1717078379063241
AccessDeniedException: 403 ${ACCOUNT} does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).
ERROR
${failed}`;
  const DOCKERFILE_FAILS = `${created}----- REMOTE BUILD OUTPUT -----
starting build "${ID}"
FETCHSOURCE
BUILD
Step 5/12 : RUN npm ci
npm ERR! code EUSAGE
npm ERR! The \`npm ci\` command can only install with an existing package-lock.json
The command '/bin/sh -c npm ci' returned a non-zero code: 1
ERROR
ERROR: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 1
${failed}`;
  const SUCCESS = `${created}----- REMOTE BUILD OUTPUT -----\nDONE\n`;
  // Calls are keyed by their first two words: "builds submit", "builds log", "artifacts docker".
  const gcloud = () => stub("gcloud", 'key="$1-$2"');
  const context = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-build-context-"));
    made.push(dir);
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\n");
    return dir;
  };
  const env = {
    IMAGE: "us-central1-docker.pkg.dev/p-123456/whiteboard-dev/whiteboard:0123456789abcdef0123456789abcdef",
    PROJECT_ID: "p-123456",
    REGION: "us-central1",
    BUILD_SERVICE_ACCOUNT: ACCOUNT,
    STAGING_BUCKET: "p-123456-whiteboard-dev-build",
    CONTEXT_ENTRIES: "Dockerfile",
    EXCLUDED_NAMES: "node_modules dist",
    BUILD_RETRY_SECONDS: "0",
  };
  const submits = (stubbed: Stub) => stubbed.calls().filter((call) => call.startsWith("builds submit"));
  const missingImage = (stubbed: Stub) => stubbed.answer("artifacts-docker", "default", "", 1);

  test.concurrent("an image that already exists is not rebuilt", async () => {
    const stubbed = gcloud();
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(0);
    expect(submits(stubbed)).toEqual([]);
    expect(result.output).toContain("already exists, not rebuilding");
  });

  test.concurrent.each([
    ["the push, before the repository grant is in effect", PUSH_DENIED],
    ["the source fetch, before the bucket grant is in effect", SOURCE_DENIED],
  ])("an IAM propagation error at %s is retried", async (_name, output) => {
    const stubbed = gcloud();
    missingImage(stubbed);
    stubbed.answer("builds-submit", 1, output, 1);
    stubbed.answer("builds-submit", 2, SUCCESS, 0);
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(0);
    expect(submits(stubbed)).toHaveLength(2);
    expect(submits(stubbed)[0]).toContain(`--service-account=projects/p-123456/serviceAccounts/${ACCOUNT}`);
    expect(result.output).toContain(`attempt 1 failed because a new IAM grant of ${ACCOUNT} is not in effect yet`);
  });

  test.concurrent("three IAM propagation errors in a row give up, naming the account", async () => {
    const stubbed = gcloud();
    missingImage(stubbed);
    stubbed.answer("builds-submit", "default", PUSH_DENIED, 1);
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(1);
    expect(submits(stubbed)).toHaveLength(3);
    expect(result.output).toContain(`failed 3 times for ${env.IMAGE} on a permission of ${ACCOUNT}`);
  });

  test.concurrent("a failing Dockerfile fails once, with its log and how to fetch it all", async () => {
    const stubbed = gcloud();
    missingImage(stubbed);
    stubbed.answer("builds-submit", "default", DOCKERFILE_FAILS, 1);
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(1);
    expect(submits(stubbed)).toHaveLength(1);
    expect(result.output).toContain("not an IAM propagation error, so not retried");
    expect(result.output).toContain("  | The command '/bin/sh -c npm ci' returned a non-zero code: 1");
    expect(result.output).toContain(`full log: gcloud builds log ${ID} --region=us-central1 --project=p-123456`);
    expect(stubbed.calls().filter((call) => call.startsWith("builds log"))).toEqual([]);
  });

  test.concurrent("when gcloud did not stream the log, the script fetches it", async () => {
    const stubbed = gcloud();
    missingImage(stubbed);
    stubbed.answer("builds-submit", "default", `${created}${failed}`, 1);
    stubbed.answer(
      "builds-log",
      "default",
      "BUILD\nStep 5/12 : RUN npm ci\nThe command '/bin/sh -c npm ci' returned a non-zero code: 1\n",
      0,
    );
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(1);
    expect(stubbed.calls()).toContain(`builds log ${ID} --region=us-central1 --project=p-123456`);
    expect(result.output).toContain("  | The command '/bin/sh -c npm ci' returned a non-zero code: 1");
  });

  test.concurrent("the deployer's own missing actAs permission is not retried and is explained", async () => {
    const stubbed = gcloud();
    missingImage(stubbed);
    stubbed.answer(
      "builds-submit",
      "default",
      "ERROR: (gcloud.builds.submit) PERMISSION_DENIED: caller does not have permission to act as service account 109095503163182759798\n",
      1,
    );
    const result = await run(BUILD, env, stubbed, context());
    expect(result.status).toBe(1);
    expect(submits(stubbed)).toHaveLength(1);
    expect(result.output).toContain("roles/iam.serviceAccountUser");
  });

  test.concurrent(
    "the deployer's own missing permission on a log object is not mistaken for the build account's",
    async () => {
      const stubbed = gcloud();
      missingImage(stubbed);
      stubbed.answer(
        "builds-submit",
        "default",
        `${created}ERROR: (gcloud.builds.submit) HTTPError 403: <Error><Code>AccessDenied</Code><Details>someone@example.com does not have storage.objects.get access to p-123456-whiteboard-dev-build/logs/log-${ID}.txt.</Details></Error>\n`,
        1,
      );
      const result = await run(BUILD, env, stubbed, context());
      expect(result.status).toBe(1);
      expect(submits(stubbed)).toHaveLength(1);
    },
  );
});

describe("bootstrap.sh enables the environment's APIs and waits until they answer", () => {
  const BOOTSTRAP = path.join(REPO, "infra/scripts/bootstrap.sh");
  // Calls are keyed by the command without flags, e.g. "redis instances list".
  const gcloud = () =>
    stub(
      "gcloud",
      'words=(); for a in "$@"; do case "$a" in -*) ;; *) words+=("$a") ;; esac; done; key="${words[0]}-${words[1]}-${words[2]:-}"',
    );
  // The real settings of infra/env/dev.json, resolved once (a node process each time would cost 0.5 s per test).
  let settings = "";
  beforeAll(async () => {
    const result = await new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn("node", ["--require", "tsx/cjs", "infra/scripts/settings.ts"], {
        cwd: REPO,
        env: {
          ...process.env,
          ENVIRONMENT: "dev",
          PROJECT_ID: "p-123456",
          REGION: "",
          STATE_BUCKET: "",
          DOMAINS: "",
          IMAGE: "",
          OVERRIDE: "",
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.on("error", reject);
      child.on("close", (status) => resolve({ status, stdout }));
    });
    expect(result.status).toBe(0);
    settings = result.stdout;
  });
  const NOT_YET =
    "ERROR: (gcloud.redis.instances.list) PERMISSION_DENIED: Google Cloud Memorystore for Redis API has not been used in project p-123456 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/redis.googleapis.com/overview?project=p-123456 then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.\n";

  test.concurrent("enables every API of the environment file in one call, then waits for the slow one", async () => {
    expect(settings).toContain("PROJECT_ID='p-123456'");
    const stubbed = gcloud();
    stubbed.answer("redis-instances-list", 1, NOT_YET, 1);
    stubbed.answer("redis-instances-list", 2, NOT_YET, 1);
    const result = await run(
      BOOTSTRAP,
      { ENVIRONMENT: "dev", INFRA_SETTINGS: settings, BOOTSTRAP_PROBE_INTERVAL: "0" },
      stubbed,
    );
    expect(result.status).toBe(0);
    const enables = stubbed.calls().filter((call) => call.startsWith("services enable"));
    expect(enables[0]).toBe(
      "services enable serviceusage.googleapis.com cloudresourcemanager.googleapis.com --project=p-123456 --quiet",
    );
    expect(enables[1]).toBe(
      "services enable artifactregistry.googleapis.com cloudbuild.googleapis.com cloudresourcemanager.googleapis.com compute.googleapis.com iam.googleapis.com logging.googleapis.com monitoring.googleapis.com redis.googleapis.com run.googleapis.com secretmanager.googleapis.com storage.googleapis.com vpcaccess.googleapis.com --project=p-123456 --quiet",
    );
    expect(stubbed.calls().filter((call) => call.startsWith("redis instances list"))).toHaveLength(3);
    // The monitoring and logging APIs (dashboard, alerts, uptime check, log-based metric) are probed like the rest.
    expect(stubbed.calls().some((call) => call.startsWith("monitoring uptime list-configs"))).toBe(true);
    expect(stubbed.calls().some((call) => call.startsWith("logging metrics list"))).toBe(true);
    expect(
      stubbed.calls().filter((call) => call.startsWith("compute networks vpc-access connectors list")),
    ).toHaveLength(1);
    expect(result.output).toContain("waiting for redis.googleapis.com to answer");
    expect(result.output).toContain("every API of dev answers in p-123456");
    // No state bucket in the file: none is created.
    expect(stubbed.calls().some((call) => call.startsWith("storage buckets create"))).toBe(false);
  });

  test.concurrent("gives up after BOOTSTRAP_WAIT_SECONDS, naming the APIs that still refuse", async () => {
    const stubbed = gcloud();
    stubbed.answer(
      "run-services-list",
      "default",
      "ERROR: (gcloud.run.services.list) PERMISSION_DENIED: Cloud Run Admin API has not been used in project p-123456 before or it is disabled.\n",
      1,
    );
    const result = await run(
      BOOTSTRAP,
      { ENVIRONMENT: "dev", INFRA_SETTINGS: settings, BOOTSTRAP_PROBE_INTERVAL: "0", BOOTSTRAP_WAIT_SECONDS: "0" },
      stubbed,
    );
    expect(result.status).toBe(1);
    expect(result.output).toContain("these APIs still refuse calls: run.googleapis.com");
  });
});
