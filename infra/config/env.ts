/**
 * Turns command-line style settings (environment variables and an optional JSON file) into configuration input.
 * Pure: the caller (infra/main.ts, the only place that reads `process.env`) passes the variables and a file reader.
 */
import { ENVIRONMENTS, type Environment, InfraConfigError, type InfraConfigInput } from "./schema";

/** The variables infra/main.ts understands. Every one is optional except PROJECT_ID (or GOOGLE_CLOUD_PROJECT). */
export const ENV_VARIABLES = {
  PROJECT_ID: "Google Cloud project id (falls back to GOOGLE_CLOUD_PROJECT)",
  REGION: "region of every regional resource (default us-central1)",
  ENVIRONMENT: "dev, prod, or a comma-separated list such as dev,prod (default dev)",
  STATE_BUCKET: "existing GCS bucket for Terraform state (default: local state files)",
  DOMAINS: "comma-separated domains; turns on the HTTPS load balancer",
  IMAGE: "prebuilt container image to deploy instead of building this repository",
  DELETION_PROTECTION: "true or false; overrides the per-environment default",
  INFRA_CONFIG: "path of a JSON file holding any other configuration field",
} as const;

/** Settings derived from the environment: one configuration input per selected environment. */
export interface EnvSettings {
  readonly environments: readonly Environment[];
  readonly inputs: readonly InfraConfigInput[];
}

type Env = Readonly<Record<string, string | undefined>>;

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function list(value: string | undefined): string[] | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Builds the configuration inputs from environment variables; values from `INFRA_CONFIG` come first and the
 * variables override them. Validation happens later in `parseInfraConfig`.
 * @param env the variables (infra/main.ts passes `process.env`)
 * @param readFile reads a UTF-8 file (infra/main.ts passes `fs.readFileSync`)
 */
export function settingsFromEnv(env: Env, readFile: (path: string) => string): EnvSettings {
  let fileInput: Record<string, unknown> = {};
  const configPath = nonEmpty(env.INFRA_CONFIG);
  if (configPath !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(configPath));
    } catch (error) {
      throw new InfraConfigError([`INFRA_CONFIG: cannot read JSON from ${configPath}: ${(error as Error).message}`]);
    }
    if (!isObject(parsed)) throw new InfraConfigError([`INFRA_CONFIG: ${configPath} must hold a JSON object`]);
    fileInput = parsed;
  }

  const names = list(env.ENVIRONMENT) ?? [typeof fileInput.environment === "string" ? fileInput.environment : "dev"];
  const environments: Environment[] = [];
  for (const name of names) {
    if (!(ENVIRONMENTS as readonly string[]).includes(name)) {
      throw new InfraConfigError([`ENVIRONMENT: must be ${ENVIRONMENTS.join(" or ")}, or a comma-separated list of them (got "${name}")`]);
    }
    if (!environments.includes(name as Environment)) environments.push(name as Environment);
  }

  const deletionProtection = nonEmpty(env.DELETION_PROTECTION);
  if (deletionProtection !== undefined && deletionProtection !== "true" && deletionProtection !== "false") {
    throw new InfraConfigError([`DELETION_PROTECTION: must be true or false (got "${deletionProtection}")`]);
  }

  const projectId = nonEmpty(env.PROJECT_ID) ?? nonEmpty(env.GOOGLE_CLOUD_PROJECT) ?? fileInput.projectId;
  if (projectId === undefined) {
    throw new InfraConfigError(["PROJECT_ID: is required (set PROJECT_ID=<your project id>, or projectId in the INFRA_CONFIG file)"]);
  }

  const fileState = isObject(fileInput.state) ? fileInput.state : {};
  const fileService = isObject(fileInput.service) ? fileInput.service : {};
  const fileLoadBalancer = isObject(fileInput.loadBalancer) ? fileInput.loadBalancer : {};
  const bucket = nonEmpty(env.STATE_BUCKET);
  const image = nonEmpty(env.IMAGE);
  const domains = list(env.DOMAINS);
  const region = nonEmpty(env.REGION);

  const inputs = environments.map(
    (environment) =>
      ({
        ...fileInput,
        projectId,
        environment,
        ...(region !== undefined ? { region } : {}),
        ...(deletionProtection !== undefined ? { deletionProtection: deletionProtection === "true" } : {}),
        ...(bucket !== undefined || isObject(fileInput.state) ? { state: { ...fileState, ...(bucket !== undefined ? { bucket } : {}) } } : {}),
        ...(image !== undefined || isObject(fileInput.service) ? { service: { ...fileService, ...(image !== undefined ? { image } : {}) } } : {}),
        ...(domains !== undefined || isObject(fileInput.loadBalancer)
          ? { loadBalancer: { ...fileLoadBalancer, ...(domains !== undefined ? { domains } : {}) } }
          : {}),
      }) as InfraConfigInput,
  );
  return { environments, inputs };
}
