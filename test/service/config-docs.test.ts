import { readFileSync } from "node:fs";
import { CONFIGURATION_DOC, withServiceSettings } from "../../scripts/settings-docs";
import { SERVICE_VARIABLES } from "../../service/config";

const committed = readFileSync(CONFIGURATION_DOC, "utf8");

test("docs/configuration.md holds the service's settings as service/config.ts declares them (npm run docs:settings)", () => {
  expect(committed).toBe(withServiceSettings(committed));
});

test("a hand edit of the generated part is found, and undone by the generator", () => {
  const edited = committed.replace("| `PORT` | `1` to `65535` | `8080` |", "| `PORT` | `1` to `65535` | `8081` |");
  expect(edited).not.toBe(committed);
  expect(withServiceSettings(edited)).toBe(committed);
});

test("every variable the service reads has its row", () => {
  expect(SERVICE_VARIABLES.filter((name) => !committed.includes(`\n| \`${name}\` |`))).toEqual([]);
});

test("a document without the markers is refused, naming them", () => {
  expect(() => withServiceSettings("# Configuration\n")).toThrow(/no place for the service's settings/);
});
