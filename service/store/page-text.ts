/**
 * Element records as the store keeps them: ElementTuples as JSON text, joined by commas into a page's text. Every
 * string in a record is free of quotes, brackets and backslashes, so a record starts at its only `[`, ends at its only
 * `]`, and is found in its page by its seq (`[<s>,`). The memory store uses these functions; the Lua in
 * ./redis-scripts.ts does the same on the same text, so both hold byte-identical pages.
 */
import { toRecord, type ElementRecord, type ElementTuple } from "../../protocol/events";

export function formatRecord(r: ElementRecord): string {
  return (
    `[${r.s},${r.g},${r.o},${r.v},"${r.i}","${r.u}","${r.t}",${r.z},${r.x},${r.y},${r.w},${r.h},` +
    `"${r.c}",${r.sw},"${r.f}",${r.n},"${r.d}",${r.l}]`
  );
}

export const parseRecord = (text: string): ElementRecord => toRecord(JSON.parse(text) as ElementTuple);

/** Where the record of seq `s` is in `text`: [start, end) (end after its `]`), or undefined. */
export function locate(text: string, s: number): [start: number, end: number] | undefined {
  const start = text.indexOf(`[${s},`);
  return start < 0 ? undefined : [start, text.indexOf("]", start) + 1];
}

export const appendRecord = (text: string, record: string): string => (text === "" ? record : `${text},${record}`);

export const replaceRecord = (text: string, [start, end]: [number, number], record: string): string =>
  text.slice(0, start) + record + text.slice(end);

/** The text without the record at [start, end) and one comma beside it. */
export function removeRecord(text: string, [start, end]: [number, number]): string {
  if (start > 0) return text.slice(0, start - 1) + text.slice(end);
  return text.slice(end < text.length ? end + 1 : end);
}

/** The ids of every record in a page's text. */
export function recordIds(text: string): string[] {
  return [...text.matchAll(/\[-?\d+,\d+,[01],-?\d+,"([^"]+)"/g)].map((match) => match[1] as string);
}

/** The bytes a page's records count for: each record and one separator. */
export const pageBytes = (text: string): number => (text === "" ? 0 : text.length + 1);
