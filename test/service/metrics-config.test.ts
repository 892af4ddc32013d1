/**
 * The metrics settings of the service (METRICS_PORT, METRICS_FINAL_SCRAPE_SECONDS): defaults, and one test per rule,
 * each checking that the message names the variable.
 */
import { ConfigError, loadConfig } from "../../service/config";

const load = (env: Record<string, string>) => loadConfig(env, () => "abcd");

function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

test("defaults: metrics on port 9464, no wait for a last scrape", () => {
  expect(load({})).toMatchObject({ metricsPort: 9464, metricsFinalScrapeMs: 0 });
  expect(load({ METRICS_PORT: "9100", METRICS_FINAL_SCRAPE_SECONDS: "2" })).toMatchObject({ metricsPort: 9100, metricsFinalScrapeMs: 2_000 });
});

test.each([
  ["METRICS_PORT out of range", { METRICS_PORT: "70000" }, "METRICS_PORT: must be a whole number from 1 to 65535"],
  ["METRICS_PORT not a number", { METRICS_PORT: "metrics" }, "METRICS_PORT: must be a whole number from 1 to 65535"],
  ["METRICS_PORT equal to PORT", { PORT: "9000", METRICS_PORT: "9000" }, "METRICS_PORT: must differ from PORT (9000)"],
  ["METRICS_PORT equal to the default PORT", { METRICS_PORT: "8080" }, "METRICS_PORT: must differ from PORT (8080)"],
  ["METRICS_FINAL_SCRAPE_SECONDS out of range", { METRICS_FINAL_SCRAPE_SECONDS: "9" }, "METRICS_FINAL_SCRAPE_SECONDS: must be a whole number from 0 to 8"],
  [
    "METRICS_FINAL_SCRAPE_SECONDS not below SHUTDOWN_TIMEOUT_SECONDS",
    { METRICS_FINAL_SCRAPE_SECONDS: "3", SHUTDOWN_TIMEOUT_SECONDS: "3" },
    "METRICS_FINAL_SCRAPE_SECONDS: must be below SHUTDOWN_TIMEOUT_SECONDS (3)",
  ],
])("%s", (_rule, env, message) => {
  expect(problems(env)).toEqual([expect.stringContaining(message)]);
});
