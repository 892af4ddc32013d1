/**
 * Renders bench/SOAK.md from bench/soak.json: slopes per minute (least-squares fit) of each instance's RSS and V8
 * heap and of Redis's used memory, over the whole soak and over its second half (growth that goes on after the
 * warm-up), Redis bytes per stored stroke byte, and every window's delivery checks. Pure.
 */
import { linearFit } from "./analysis";
import { num, percent, table } from "./markdown";
import type { SoakResults, SoakSample } from "./results";

type Series = (sample: SoakSample) => number;

function slopePerMinute(samples: readonly SoakSample[], value: Series): { slope: number; r2: number } {
  const points = samples
    .map((sample) => [sample.at / 60, value(sample)] as const)
    .filter(([, y]) => Number.isFinite(y));
  const { slope, r2 } = linearFit(points);
  return { slope, r2 };
}

export function renderSoak(results: SoakResults): string {
  const { settings, samples, windows, stored, machine } = results;
  const secondHalf = samples.filter((sample) => sample.at >= (samples.at(-1)?.at ?? 0) / 2);
  const instances = samples[0]?.rssMb.length ?? 0;
  const series: { name: string; value: Series; unit: string }[] = [
    ...Array.from({ length: instances }, (_, i) => ({
      name: `instance ${i + 1} RSS`,
      value: (sample: SoakSample) => sample.rssMb[i] ?? Number.NaN,
      unit: "MB",
    })),
    ...Array.from({ length: instances }, (_, i) => ({
      name: `instance ${i + 1} V8 heap used`,
      value: (sample: SoakSample) => sample.heapUsedMb[i] ?? Number.NaN,
      unit: "MB",
    })),
    { name: "Redis used_memory", value: (sample) => sample.redisUsedMb, unit: "MB" },
    { name: "pieces stored", value: (sample) => sample.piecesStored, unit: "pieces" },
  ];
  const rows = series.map(({ name, value, unit }) => {
    const whole = slopePerMinute(samples, value);
    const late = slopePerMinute(secondHalf, value);
    const firstValue = samples[0] ? value(samples[0]) : Number.NaN;
    const lastValue = samples.at(-1) ? value(samples.at(-1) as SoakSample) : Number.NaN;
    return [
      name,
      `${num(firstValue, 1)} → ${num(lastValue, 1)} ${unit}`,
      `${num(whole.slope, 3)} (R² ${num(whole.r2, 2)})`,
      `${num(late.slope, 3)} (R² ${num(late.r2, 2)})`,
    ];
  });
  const redisGrowthBytes = (stored.redisUsedEndMb - stored.redisUsedStartMb) * 1e6;
  const totals = windows.reduce(
    (sum, { result }) => ({
      expected: sum.expected + result.delivery.expected,
      delivered: sum.delivered + result.delivery.delivered,
      lost: sum.lost + result.delivery.lost,
      duplicates: sum.duplicates + result.delivery.duplicates,
      corrupt: sum.corrupt + result.delivery.corrupt,
    }),
    { expected: 0, delivered: 0, lost: 0, duplicates: 0, corrupt: 0 },
  );
  const windowRows = windows.map(({ at, result }) => [
    num(at / 60, 1),
    num(result.latency.p50, 1),
    num(result.latency.p99, 1),
    `${num(result.delivery.delivered)} / ${num(result.delivery.expected)}`,
    `${result.delivery.lost}/${result.delivery.duplicates}/${result.delivery.corrupt}`,
    Object.entries(result.refusedBy)
      .map(([code, n]) => `${code} ${n}`)
      .join(", ") || "–",
    num(Math.max(0, ...result.generator.map((process) => process.loopDelayMs.p99)), 1),
  ]);
  const minutes = (samples.at(-1)?.at ?? 0) / 60;
  return `# Soak: ${settings.clients} clients, ${settings.boards} boards, ${settings.linesPerSecond} lines/s for ${num(minutes, 1)} minutes

Measured by \`make soak\` (bench/soak.ts) on ${results.generatedAt.slice(0, 10)} into bench/soak.json, rendered by bench/report.ts. Do
not edit by hand: run it again.

- ${machine.cpus} × ${machine.model}; load average before: ${machine.loadBefore.join(", ")}; Node.js ${machine.node}; ${machine.redis}
- ${settings.instances} instances, one Redis (the Memorystore stand-in); client i on board i mod ${settings.boards} and instance i mod
  ${settings.instances}. Every client draws a line of ${settings.samplesPerLine} pointer samples at 60 Hz every ${num(settings.clients / settings.linesPerSecond, 2)} s, one event
  per sample, and checks every sample of the others' lines on its board. Drawing runs in windows of ${settings.windowSeconds} s (each
  checked on its own, with a pause of about a second between them); memory is read every ${settings.sampleSeconds} s.
- Command: \`SOAK_MINUTES=${settings.minutes} CLIENTS=${settings.clients} BOARDS=${settings.boards} LINES_PER_SECOND=${settings.linesPerSecond} SAMPLES_PER_LINE=${settings.samplesPerLine} make soak\`

## Slopes
Least-squares slope per minute over all ${samples.length} readings, and over the second half alone (what still grows once heaps
and buffers reach their working size). RSS from the kernel; heap from each instance's \`nodejs_heap_size_used_bytes\`;
Redis from \`INFO memory\`.

${table(["series", "first → last", "slope per minute, whole soak", "slope per minute, second half"], rows)}

## Redis bytes per stored stroke byte
The store held ${num(stored.records)} records of ${num(stored.recordBytes / 1e6, 2)} MB (each record's bytes as a client receives it) at the end;
Redis's used memory grew ${num(redisGrowthBytes / 1e6, 2)} MB over the soak: **${num(stored.recordBytes > 0 ? redisGrowthBytes / stored.recordBytes : Number.NaN, 2)} bytes of Redis memory per stored
record byte**, ${num(stored.records > 0 ? redisGrowthBytes / stored.records : Number.NaN)} bytes per record.

## Deliveries
Over the soak: ${num(totals.delivered)} of ${num(totals.expected)} checked deliveries (${percent(totals.delivered, totals.expected, 3)}), ${totals.lost} lost, ${totals.duplicates} duplicated,
${totals.corrupt} corrupt.

${table(["minute", "p50 ms", "p99 ms", "delivered / expected", "lost/dup/corrupt", "refused", "generator loop delay p99 ms"], windowRows)}
`;
}
