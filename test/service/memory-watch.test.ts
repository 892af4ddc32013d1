import pino from "pino";
import { MemoryWatch, parseMemoryInfo } from "../../service/memory-watch";

const info = (used: number, max: number) =>
  `# Memory\r\nused_memory:${used}\r\nused_memory_human:1M\r\nmaxmemory:${max}\r\n`;

test("reads used_memory and maxmemory from INFO memory", () => {
  expect(parseMemoryInfo(info(123, 456))).toEqual({ usedBytes: 123, maxBytes: 456 });
});

test("logs once when Redis passes 80% of maxmemory and once when it falls back; tight from 90%", async () => {
  const lines: { msg: string; level: number }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => lines.push(JSON.parse(line) as { msg: string; level: number }) },
  );
  let used = 10;
  const watch = new MemoryWatch(() => Promise.resolve(info(used, 100)), logger, 60_000);
  await watch.poll();
  expect(watch.ratio).toBe(0.1);
  for (used of [85, 86, 91]) await watch.poll();
  expect(watch.tight).toBe(true);
  used = 50;
  await watch.poll();
  watch.close();
  expect(lines.map((line) => line.msg)).toEqual([
    "redis memory above 80% of maxmemory",
    "redis memory back under 80% of maxmemory",
  ]);
  expect(watch.tight).toBe(false);
});

test("with no maxmemory there is no ratio, and nothing is ever tight", async () => {
  const watch = new MemoryWatch(() => Promise.resolve(info(10_000, 0)), pino({ level: "silent" }), 60_000);
  await watch.poll();
  watch.close();
  expect(watch.ratio).toBeUndefined();
  expect(watch.tight).toBe(false);
});
