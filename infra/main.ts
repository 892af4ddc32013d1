/**
 * CDKTF entry point (cdktf.json "app"). With infra/scripts/settings.ts, the only module that reads the command line
 * environment: ENVIRONMENT picks the committed file infra/env/<environment>.json, which holds every setting; PROJECT_ID,
 * REGION, STATE_BUCKET, DOMAINS, IMAGE and DELETION_PROTECTION may only repeat it (or fill an empty project id) unless
 * named in OVERRIDE (see infra/config/env.ts). Every value is validated before any construct is created; an invalid one
 * or a contradiction exits with a message naming the field and both values.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { addWhiteboardStacks, stackIds } from "./app";
import { settingsFromEnv } from "./config/env";
import { parseInfraConfig, runReportingConfigErrors } from "./config/schema";

function main(): void {
  const projectRoot = path.resolve(__dirname, "..");
  const settings = settingsFromEnv(process.env, (file) => fs.readFileSync(path.resolve(projectRoot, file), "utf8"));
  for (const notice of settings.notices) process.stderr.write(`${notice}\n`);
  const configs = settings.inputs.map((input) => parseInfraConfig(input));

  const app = new App();
  // Terraform runs in <outdir>/stacks/<stack>; every stack id has the same depth, so one relative path serves all.
  const stackDir = path.resolve(app.outdir, "stacks", stackIds(configs[0]?.environment ?? "dev").foundation);
  const rootFromStackDir = path.relative(stackDir, projectRoot).split(path.sep).join("/") || ".";

  addWhiteboardStacks(app, { configs, rootFromStackDir, buildContextDir: projectRoot });
  app.synth();
}

runReportingConfigErrors(main);
