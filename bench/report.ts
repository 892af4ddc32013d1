/**
 * `make bench-report` (the last step of `make bench`): renders what the measuring programs wrote. bench/RESULTS.md
 * from bench/results.json (bench/compare.ts), bench/scale-out.json (bench/scale-out.ts) and bench/CATCHUP.md when
 * present; bench/SOAK.md from bench/soak.json when present. Measures nothing.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CompareResults, ScaleResults, SoakResults } from "./lib/results";
import { renderResults } from "./lib/render-results";
import { renderSoak } from "./lib/render-soak";

const file = (name: string) => path.join(__dirname, name);
const read = (name: string): string | undefined =>
  existsSync(file(name)) ? readFileSync(file(name), "utf8") : undefined;
const json = <T>(name: string): T | undefined =>
  ((text) => (text === undefined ? undefined : (JSON.parse(text) as T)))(read(name));

const compare = json<CompareResults>("results.json");
if (compare) {
  writeFileSync(
    file("RESULTS.md"),
    renderResults({ compare, scale: json<ScaleResults>("scale-out.json"), catchUp: read("CATCHUP.md") }),
  );
  console.log("wrote bench/RESULTS.md");
} else console.log("no bench/results.json: run `make bench` first");

const soak = json<SoakResults>("soak.json");
if (soak) {
  writeFileSync(file("SOAK.md"), renderSoak(soak));
  console.log("wrote bench/SOAK.md");
}
