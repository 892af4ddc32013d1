/**
 * `make smoke ENV=dev` (or `URL=https://…`): runs ./smoke.ts against the deployed whiteboard and exits 1 on any
 * failed check. Without URL it reads the environment's outputs, cdktf.out/outputs-<ENV>.json (written by make deploy):
 * the load balancer's URL when there is one, else the run.app URL. SMOKE_HOLD_SECONDS (70) is how long a WebSocket
 * must stay open.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { formatTable, runSmoke } from "./smoke";

/** The front a user reaches: `load_balancer_url`, else `service_url`, of `<env>-app` in cdktf's outputs file. */
export function deployedUrl(outputsJson: string, environment: string): string {
  const outputs = JSON.parse(outputsJson) as Record<string, Record<string, unknown> | undefined>;
  const app = outputs[`${environment}-app`] ?? {};
  const url = app.load_balancer_url ?? app.service_url;
  if (typeof url !== "string") throw new Error(`no load_balancer_url or service_url for ${environment}-app`);
  return url;
}

async function main(): Promise<void> {
  const environment = process.env.ENV ?? "dev";
  const file = path.join(__dirname, "..", "..", "cdktf.out", `outputs-${environment}.json`);
  const url = process.env.URL || deployedUrl(readFileSync(file, "utf8"), environment);
  const holdSeconds = Number(process.env.SMOKE_HOLD_SECONDS ?? 70);
  if (!Number.isFinite(holdSeconds) || holdSeconds < 0)
    throw new Error("SMOKE_HOLD_SECONDS: must be a number of seconds");
  process.stdout.write(`make smoke: ${url} (a WebSocket held ${holdSeconds} s)\n`);
  const rows = await runSmoke({ url, holdSeconds });
  process.stdout.write(`${formatTable(rows)}\n`);
  process.exit(rows.every((row) => row.ok) ? 0 : 1);
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`make smoke: ${error.message}\n`);
    process.exit(1);
  });
}
