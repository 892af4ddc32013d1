/**
 * Test helpers: synthesize the real App into a private temporary folder, read back the exact cdk.tf.json text of
 * every stack, and remove the folder (cdktf's Testing helpers would leave cdktf.outdir.* folders in TMPDIR).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { addWhiteboardStacks } from "../../infra/app";
import { type InfraConfigInput, parseInfraConfig } from "../../infra/config/schema";

/** A small, committed build context: the image tag in snapshots is its hash, so service edits never touch them. */
export const FIXTURE_CONTEXT = path.join(__dirname, "fixtures", "build-context");

/** The repository root as seen from `cdktf.out/stacks/<stack>`, as infra/main.ts computes it for the default outdir. */
const ROOT_FROM_STACK_DIR = "../../..";

/** One synthesized stack: its exact file text and the parsed JSON. */
export interface SynthesizedStack {
  readonly text: string;
  readonly json: TerraformJson;
}

/** The parts of a cdk.tf.json the tests look at. */
export interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown; sensitive?: boolean; description?: string }>;
  readonly provider?: Record<string, Array<Record<string, unknown>>>;
  readonly terraform?: Record<string, unknown>;
}

/** The minimal valid input; tests spread their changes over it. */
export const BASE_INPUT = { projectId: "whiteboard-test-1" } as const satisfies InfraConfigInput;

/**
 * Validates the inputs, builds the App exactly as infra/main.ts does (fixture build context), synthesizes it and
 * returns every stack by id.
 */
export function synthesize(...inputs: InfraConfigInput[]): Record<string, SynthesizedStack> {
  const configs = inputs.map((input) => parseInfraConfig(input));
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "infra-test-"));
  // cdktf records a full stack trace for every token it creates; under jest each one is source-mapped, which makes
  // a synth three times slower. The traces only decorate cdktf's own error messages, never the output, so format
  // them as empty strings while synthesizing (the snapshots prove the output unchanged).
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be put back afterwards, never called here
  const prepareStackTrace = Error.prepareStackTrace;
  Error.prepareStackTrace = () => "";
  try {
    const app = new App({ outdir });
    addWhiteboardStacks(app, { configs, rootFromStackDir: ROOT_FROM_STACK_DIR, buildContextDir: FIXTURE_CONTEXT });
    app.synth();
    const stacks: Record<string, SynthesizedStack> = {};
    for (const id of fs.readdirSync(path.join(outdir, "stacks")).sort()) {
      const text = fs.readFileSync(path.join(outdir, "stacks", id, "cdk.tf.json"), "utf8");
      stacks[id] = { text, json: JSON.parse(text) as TerraformJson };
    }
    return stacks;
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The stack with this id, or a failed assertion. */
export function stack(stacks: Record<string, SynthesizedStack>, id: string): TerraformJson {
  const found = stacks[id];
  if (!found) throw new Error(`no stack ${id}; have ${Object.keys(stacks).join(", ")}`);
  return found.json;
}

/** All resources of a type, as an array of their bodies (without the `//` metadata). */
export function resources(json: TerraformJson, type: string): Array<Record<string, unknown>> {
  return Object.values(json.resource?.[type] ?? {}).map((body) => {
    const { "//": _metadata, ...rest } = body;
    return rest;
  });
}

/** The single resource of a type; fails when there are zero or several. */
export function onlyResource(json: TerraformJson, type: string): Record<string, unknown> {
  const found = resources(json, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as Record<string, unknown>;
}

/** `${type}.${name}` address of the single resource of a type, for matching references. */
export function address(json: TerraformJson, type: string): string {
  const names = Object.keys(json.resource?.[type] ?? {});
  if (names.length !== 1) throw new Error(`expected exactly one ${type}, found ${names.length}`);
  return `${type}.${names[0]}`;
}

/** `${type}.${name}` address of the one resource of a type whose body satisfies `match`. */
export function addressWhere(
  json: TerraformJson,
  type: string,
  match: (body: Record<string, unknown>) => boolean,
): string {
  const names = Object.entries(json.resource?.[type] ?? {})
    .filter(([, body]) => match(body))
    .map(([name]) => name);
  if (names.length !== 1) throw new Error(`expected exactly one matching ${type}, found ${names.length}`);
  return `${type}.${names[0]}`;
}

/** The Cloud Run service's first container. */
export function container(json: TerraformJson): Record<string, unknown> {
  const service = onlyResource(json, "google_cloud_run_v2_service");
  const template = service.template as { containers: Array<Record<string, unknown>> };
  return template.containers[0] as Record<string, unknown>;
}

/** The container's environment as name -> entry. */
export function containerEnv(json: TerraformJson): Record<string, { value?: string; value_source?: unknown }> {
  const env = container(json).env as Array<{ name: string; value?: string; value_source?: unknown }>;
  return Object.fromEntries(env.map(({ name, ...rest }) => [name, rest]));
}

/**
 * The foundation output a cross-stack reference in the app stack points at, e.g. the value
 * `${google_redis_instance.x.port}` behind `${data.terraform_remote_state.….outputs.cross-stack-output-…}`.
 */
export function crossStackSource(foundation: TerraformJson, reference: string): unknown {
  const match = /outputs\.([A-Za-z0-9_-]+)/.exec(reference);
  if (!match) throw new Error(`not a cross-stack reference: ${reference}`);
  return foundation.output?.[match[1] as string]?.value;
}
