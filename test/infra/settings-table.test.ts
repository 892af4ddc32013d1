/**
 * infra/README.md's configuration table is generated from the declarations (infra/config/settings.ts): the committed
 * table must be exactly what `make infra-docs` writes, and every declared setting must appear in it.
 */
import * as fs from "node:fs";
import { settingRows } from "../../infra/config/declaration";
import { SETTINGS } from "../../infra/config/settings";
import { README, withGeneratedTable } from "../../infra/scripts/settings-table";

test("the committed configuration table is the one generated from the declarations (run make infra-docs)", () => {
  const readme = fs.readFileSync(README, "utf8");
  expect(readme).toBe(withGeneratedTable(readme));
});

test("every declared setting has a row, with a default, the allowed values and a description", () => {
  const rows = settingRows(SETTINGS);
  const readme = fs.readFileSync(README, "utf8");
  expect(rows.map((row) => row.field)).toContain("monitoring.alerts.errorLogsPerMinute");
  for (const row of rows) {
    expect(readme).toContain(`| \`${row.field}\` |`);
    expect([row.default, row.allowed, row.description].every((text) => text.trim().length > 0)).toBe(true);
  }
});

test("a table that drifted from the declarations is caught", () => {
  const readme = fs.readFileSync(README, "utf8");
  const drifted = readme.replace('| `region` | `"us-central1"` |', '| `region` | `"europe-west1"` |');
  expect(drifted).not.toBe(readme);
  expect(withGeneratedTable(drifted)).not.toBe(drifted);
});
