/**
 * A configuration the service refuses stops the process (exit code 2) with one log line naming the variable: the
 * built service (dist/, `npm run build`), started as a process. The rules themselves: ./config.test.ts.
 */
import { spawnSync } from "node:child_process";
import { SERVICE_ENTRY } from "../../local/service-instance";

test.each([
  [{ PORT: "x" }, "PORT: must be a whole number from 1 to 65535"],
  [{ REDIS_HOST: "10.1.2.3", REDIS_PASWORD: "s3cret-value" }, "REDIS_PASWORD: unknown variable"],
])("the process exits with the message when started with %j", (env, message) => {
  const result = spawnSync(process.execPath, [SERVICE_ENTRY], { env, encoding: "utf8", timeout: 10_000 });
  expect(result.status).toBe(2);
  const line = JSON.parse(result.stdout.trim()) as { severity: string; message: string };
  expect(line.severity).toBe("CRITICAL");
  expect(line.message).toContain(message);
  // The message names the variable, never its value (a mistyped REDIS_PASSWORD holds a password).
  expect(line.message).not.toContain("s3cret-value");
});
