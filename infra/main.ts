/**
 * CDKTF entry point (cdktf.json "app"). The only module that reads the command line environment: PROJECT_ID, REGION,
 * ENVIRONMENT, STATE_BUCKET, DOMAINS, IMAGE, DELETION_PROTECTION and INFRA_CONFIG (see infra/config/env.ts).
 * Every value is validated before any construct is created; an invalid one exits with a message naming the field.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { addWhiteboardStacks, stackIds } from "./app";
import { settingsFromEnv } from "./config/env";
import { InfraConfigError, parseInfraConfig } from "./config/schema";

function main(): void {
  const settings = settingsFromEnv(process.env, (file) => fs.readFileSync(file, "utf8"));
  const configs = settings.inputs.map((input) => parseInfraConfig(input));

  const projectRoot = path.resolve(__dirname, "..");
  const app = new App();
  // Terraform runs in <outdir>/stacks/<stack>; every stack id has the same depth, so one relative path serves all.
  const stackDir = path.resolve(app.outdir, "stacks", stackIds(configs[0]?.environment ?? "dev").foundation);
  const rootFromStackDir = path.relative(stackDir, projectRoot).split(path.sep).join("/") || ".";

  addWhiteboardStacks(app, { configs, rootFromStackDir, buildContextDir: projectRoot });
  app.synth();
}

try {
  main();
} catch (error) {
  if (error instanceof InfraConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
