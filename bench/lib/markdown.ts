/** Small helpers for the reports' Markdown. */

/** A number for a table: thousands separated, `digits` decimals at most; "–" when there is none. */
export function num(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function percent(part: number, whole: number, digits = 2): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(digits)}%` : "–";
}

/** "a–b" for a range of values, or one value when they are all the same. */
export function range(values: readonly number[], digits = 0): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "–";
  const [low, high] = [Math.min(...finite), Math.max(...finite)];
  return num(low, digits) === num(high, digits) ? num(low, digits) : `${num(low, digits)}–${num(high, digits)}`;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}
