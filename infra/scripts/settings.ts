/**
 * Prints the resolved settings of one environment for the shell scripts (bootstrap, preflight), with the same rules
 * as synth (infra/config/env.ts): the committed file infra/env/<ENVIRONMENT>.json, the command line only repeating or
 * filling it, OVERRIDE for one run.
 *
 *   node --require tsx/cjs infra/scripts/settings.ts          # shell assignments: PROJECT_ID, REGION, STATE_BUCKET, APIS
 *   node --require tsx/cjs infra/scripts/settings.ts --json   # the whole resolved configuration (make infra-settings)
 *
 * Loads zod and the configuration modules only (no cdktf), so it costs well under a second.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { requiredApis } from "../config/apis";
import { settingsFromEnv } from "../config/env";
import { InfraConfigError, parseInfraConfig, runReportingConfigErrors } from "../config/schema";

/** Single-quoted for POSIX shells. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function main(): void {
  const projectRoot = path.resolve(__dirname, "../..");
  const settings = settingsFromEnv(process.env, (file) => fs.readFileSync(path.resolve(projectRoot, file), "utf8"));
  if (settings.inputs.length !== 1) {
    throw new InfraConfigError([
      `ENVIRONMENT: the scripts handle one environment at a time (got ${settings.environments.join(",")})`,
    ]);
  }
  for (const notice of settings.notices) process.stderr.write(`${notice}\n`);
  const config = parseInfraConfig(settings.inputs[0]);
  if (process.argv.includes("--json")) {
    process.stdout.write(
      `${JSON.stringify(config, (_key, value: unknown) => (value === undefined ? null : value), 2)}\n`,
    );
    return;
  }
  const lines = {
    PROJECT_ID: config.projectId,
    REGION: config.region,
    STATE_BUCKET: config.state.bucket ?? "",
    APIS: requiredApis(config).join(" "),
  };
  process.stdout.write(
    Object.entries(lines)
      .map(([name, value]) => `${name}=${quote(value)}\n`)
      .join(""),
  );
}

runReportingConfigErrors(main);
