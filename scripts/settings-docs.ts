/**
 * The service's settings in docs/configuration.md, generated from their declarations in service/config.ts: the part
 * between the markers is rewritten, the rest of the file is left as written. `npm run docs:settings` writes it;
 * test/service/config-docs.test.ts fails when the committed file differs from what this generates.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { RESERVED_PREFIX, rules, SERVICE_VARIABLES, settings } from "../service/config";
import { settingsOf } from "../service/config/declaration";

export const CONFIGURATION_DOC = path.join(__dirname, "..", "docs", "configuration.md");
const BEGIN = "<!-- service-settings: generated from service/config.ts by `npm run docs:settings`; do not edit -->";
const END = "<!-- /service-settings -->";

const cell = (markdown: string) => markdown.replaceAll("|", "\\|");

/** The table of every variable and the list of rules across them, in Markdown. */
export function serviceSettings(): string {
  const rows = settingsOf(settings).map(({ name, docs }) =>
    [`\`${name}\``, docs.values, docs.default, docs.description].map(cell).join(" | "),
  );
  const redisVariables = SERVICE_VARIABLES.filter((name) => name.startsWith(RESERVED_PREFIX));
  return [
    "| Variable | Values | Default | Meaning |",
    "|---|---|---|---|",
    ...rows.map((row) => `| ${row} |`),
    "",
    "Checked at start across variables; each failure names a variable, and every problem is reported at once (exit",
    "code 2):",
    "",
    `- No \`${RESERVED_PREFIX}*\` variable but ${redisVariables.map((name) => `\`${name}\``).join(", ")}: a typo such as \`REDIS_PASWORD\` would otherwise leave Redis without a password`,
    ...rules.map((rule) => `- ${rule.description}`),
  ].join("\n");
}

/** `document` with its generated part replaced by what the declarations say now. */
export function withServiceSettings(document: string): string {
  const begin = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (begin < 0 || end < begin)
    throw new Error(`docs/configuration.md: no place for the service's settings (the lines ${BEGIN} and ${END})`);
  return `${document.slice(0, begin + BEGIN.length)}\n${serviceSettings()}\n${document.slice(end)}`;
}

if (require.main === module) {
  writeFileSync(CONFIGURATION_DOC, withServiceSettings(readFileSync(CONFIGURATION_DOC, "utf8")));
}
