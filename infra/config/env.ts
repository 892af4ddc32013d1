/**
 * Each environment's settings come from its committed file, `infra/env/<environment>.json`; the command line may only
 * repeat what the file says, fill an empty project id, or, named in `OVERRIDE`, replace a value for one run.
 *
 * Why: a setting that lives only in someone's shell is lost on the next deploy. With `DOMAINS` on the command line
 * only, a later `make deploy ENV=prod` without it would destroy the load balancer and open the run.app URL; without
 * `STATE_BUCKET` it would point Terraform at another state.
 *
 * Pure: the caller (infra/main.ts or infra/scripts/settings.ts, the only places that read `process.env`) passes the
 * variables and a reader of repository files.
 */
import {
  ENVIRONMENTS,
  type Environment,
  type InfraConfig,
  InfraConfigError,
  type InfraConfigInput,
  parseInfraConfig,
} from "./schema";

/** Folder of the environment files, relative to the repository root. */
const ENV_FILE_DIR = "infra/env";

/** `infra/env/<environment>.json`: the committed settings of an environment. */
function envFilePath(environment: string): string {
  return `${ENV_FILE_DIR}/${environment}.json`;
}

/** A command-line variable that may repeat, fill or (with OVERRIDE) replace one field of the environment file. */
interface CommandLineSetting {
  /** The field of the configuration it sets, as written in the file. */
  readonly field: string;
  /** The variable's value as the field's value; `undefined` when the variable is not given. */
  readonly parse: (text: string) => unknown;
  /** The resolved configuration's value of the field. */
  readonly current: (config: InfraConfig) => unknown;
  /** What "no value" means for this field, for messages. */
  readonly none?: string;
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** The variables that correspond to a field of the environment file. */
const COMMAND_LINE_SETTINGS: Readonly<Record<string, CommandLineSetting>> = {
  PROJECT_ID: { field: "projectId", parse: (text) => text, current: (config) => config.projectId },
  REGION: { field: "region", parse: (text) => text, current: (config) => config.region },
  STATE_BUCKET: {
    field: "state.bucket",
    parse: (text) => text,
    current: (config) => config.state.bucket,
    none: "null (local state files)",
  },
  DOMAINS: { field: "loadBalancer.domains", parse: list, current: (config) => config.loadBalancer.domains },
  IMAGE: {
    field: "service.image",
    parse: (text) => text,
    current: (config) => config.service.image,
    none: "null (built from this repository)",
  },
  DELETION_PROTECTION: {
    field: "deletionProtection",
    parse: (text) => {
      if (text !== "true" && text !== "false") {
        throw new InfraConfigError([`DELETION_PROTECTION: must be true or false (got "${text}")`]);
      }
      return text === "true";
    },
    current: (config) => config.deletionProtection,
  },
};

/** Settings of the selected environments. */
export interface EnvSettings {
  readonly environments: readonly Environment[];
  /** One configuration input per environment: the file, its project id filled, overrides applied. */
  readonly inputs: readonly InfraConfigInput[];
  /** One line per value an OVERRIDE replaced, to show the user (the run differs from the committed file). */
  readonly notices: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown, none = "null"): string {
  return value === undefined ? none : JSON.stringify(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A copy of `input` with the dotted `field` set to `value`. */
function withField(input: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = field.split(".") as [string, ...string[]];
  if (rest.length === 0) return { ...input, [head]: value };
  const child = isObject(input[head]) ? input[head] : {};
  return { ...input, [head]: withField(child, rest.join("."), value) };
}

/**
 * Reads the environment file of each selected environment and reconciles it with the command line.
 * @param env the variables (infra/main.ts passes `process.env`)
 * @param readFile reads a UTF-8 file given relative to the repository root
 * @throws InfraConfigError naming each invalid variable or file field, and each contradiction with both values
 */
export function settingsFromEnv(env: Env, readFile: (path: string) => string): EnvSettings {
  if (nonEmpty(env.INFRA_CONFIG) !== undefined) {
    throw new InfraConfigError([
      `INFRA_CONFIG: is no longer read; every setting of an environment lives in its committed file ${envFilePath("<environment>")} (move the fields there)`,
    ]);
  }

  const environments: Environment[] = [];
  const names = list(env.ENVIRONMENT ?? "");
  for (const name of names.length > 0 ? names : ["dev"]) {
    if (!(ENVIRONMENTS as readonly string[]).includes(name)) {
      throw new InfraConfigError([
        `ENVIRONMENT: must be ${ENVIRONMENTS.join(" or ")}, or a comma-separated list of them (got "${name}")`,
      ]);
    }
    if (!environments.includes(name as Environment)) environments.push(name as Environment);
  }

  // The command line, parsed once: name -> value as the field's value.
  const given = new Map<string, unknown>();
  for (const [name, setting] of Object.entries(COMMAND_LINE_SETTINGS)) {
    const text = nonEmpty(env[name]);
    if (text !== undefined) given.set(name, setting.parse(text));
  }

  const overrides = list(env.OVERRIDE ?? "");
  const overrideIssues: string[] = [];
  for (const name of overrides) {
    if (!(name in COMMAND_LINE_SETTINGS)) {
      overrideIssues.push(
        `OVERRIDE: ${JSON.stringify(name)} is not a setting the command line can give; use ${Object.keys(COMMAND_LINE_SETTINGS).join(", ")}`,
      );
    } else if (!given.has(name)) {
      overrideIssues.push(
        `OVERRIDE: names ${name}, but ${name} is not set (OVERRIDE=${name} needs ${name}=<value> on the same command line)`,
      );
    }
  }
  if (overrideIssues.length > 0) throw new InfraConfigError(overrideIssues);

  const fallbackProject = nonEmpty(env.GOOGLE_CLOUD_PROJECT);
  const inputs: InfraConfigInput[] = [];
  const notices: string[] = [];
  const issues: string[] = [];

  for (const environment of environments) {
    const file = envFilePath(environment);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(file));
    } catch (error) {
      throw new InfraConfigError([`${file}: cannot read JSON: ${(error as Error).message}`]);
    }
    if (!isObject(parsed)) throw new InfraConfigError([`${file}: must hold a JSON object`]);
    if (parsed.environment !== undefined && parsed.environment !== environment) {
      throw new InfraConfigError([
        `${file}: environment must be "${environment}" or left out (got ${JSON.stringify(parsed.environment)})`,
      ]);
    }

    // The project id: the file's, or, when the file leaves it empty, the command line's.
    let input: Record<string, unknown> = { ...parsed, environment };
    const fileProject = typeof parsed.projectId === "string" ? parsed.projectId.trim() : parsed.projectId;
    const projectFilled = fileProject === undefined || fileProject === "";
    if (projectFilled) {
      const project = (given.get("PROJECT_ID") as string | undefined) ?? fallbackProject;
      if (project === undefined) {
        throw new InfraConfigError([
          `PROJECT_ID: is required: ${file} leaves projectId empty (pass PROJECT_ID=<your project id>, or write it in the file)`,
        ]);
      }
      input = { ...input, projectId: project };
    }

    let config: InfraConfig;
    try {
      config = parseInfraConfig(input);
    } catch (error) {
      if (error instanceof InfraConfigError)
        throw new InfraConfigError(error.issues.map((issue) => `${file}: ${issue}`));
      throw error;
    }

    for (const [name, value] of given) {
      if (name === "PROJECT_ID" && projectFilled) continue;
      const setting = COMMAND_LINE_SETTINGS[name] as CommandLineSetting;
      const current = setting.current(config);
      if (sameValue(value, current)) continue;
      const both = `the command line says ${name}=${show(value)}, ${file} says ${setting.field} = ${show(current, setting.none)}`;
      if (overrides.includes(name)) {
        input = withField(input, setting.field, value);
        notices.push(
          `OVERRIDE=${name}: ${both}; this run uses ${show(value)} (a run without OVERRIDE goes back to the file)`,
        );
      } else {
        issues.push(
          `${name}: contradicts the environment file: ${both}. Edit the file (what every deploy uses), or add OVERRIDE=${name} to use the command-line value for this run only`,
        );
      }
    }
    inputs.push(input as InfraConfigInput);
  }
  if (issues.length > 0) throw new InfraConfigError(issues);
  return { environments, inputs, notices };
}
