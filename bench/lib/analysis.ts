/**
 * Figures derived from a step's measurements, shared by the measuring program (which climbs the rate ladder while a
 * step holds) and the report. Definitions, not targets: "sustained" is what the table's "highest rate" row means.
 */
import type { Step } from "./results";

/** "Highest rate with p99 under this and 100% delivered" (the benchmark's definition of a sustained step). */
export const SUSTAINED_P99_MS = 100;

/**
 * Everything that went wrong in a step, in words; empty when nothing did. Samples of another step (late past that
 * step's drain, where they already counted as lost) are noted but are not this step's fault.
 */
export function problems(step: Step): string[] {
  const list = faults(step);
  if (step.result.delivery.stray) list.push(`${step.result.delivery.stray} samples of an earlier step`);
  return list;
}

function faults(step: Step): string[] {
  const list: string[] = [];
  const { delivery, refusedBy, errors, samplesBy } = step.result;
  if (step.died.length) list.push(`${step.died.join(", ")} died`);
  if (samplesBy.awaiting) list.push(`${samplesBy.awaiting} samples never acknowledged`);
  if (delivery.lost) list.push(`${delivery.lost} lost (${delivery.receiversWithLoss} receivers)`);
  if (delivery.duplicates) list.push(`${delivery.duplicates} duplicated`);
  if (delivery.corrupt) list.push(`${delivery.corrupt} corrupt`);
  const refused = Object.entries(refusedBy);
  if (refused.length) list.push(`refused ${refused.map(([code, n]) => `${code} ${n}`).join(", ")}`);
  const serverRefusals = Object.entries(step.instances?.refusals ?? {});
  if (serverRefusals.length)
    list.push(`instances refused ${serverRefusals.map(([key, n]) => `${key} ${n}`).join(", ")}`);
  if (errors.disconnects) list.push(`${errors.disconnects} disconnects`);
  if (errors.connectErrors) list.push(`${errors.connectErrors} connect errors`);
  return list;
}

/** Every stored sample reached every checking receiver once, intact, and nothing else went wrong. */
export function allDelivered(step: Step): boolean {
  return step.result.delivery.expected > 0 && faults(step).length === 0;
}

export function sustained(step: Step): boolean {
  return allDelivered(step) && step.result.latency.p99 < SUSTAINED_P99_MS;
}

/**
 * The highest ladder rate sustained with every lower rate sustained too (every run of a rate, repeats included);
 * undefined when not even the lowest was.
 */
export function highestSustained(steps: readonly Step[]): number | undefined {
  const rates = [...new Set(steps.filter(isLadder).map((step) => step.rate))].sort((a, b) => a - b);
  let best: number | undefined;
  for (const rate of rates) {
    if (!steps.filter((step) => isLadder(step) && step.rate === rate).every(sustained)) break;
    best = rate;
  }
  return best;
}

const isLadder = (step: Step) => step.kind === "ladder" || step.kind === "repeat";

const cpuMsOf = (step: Step, prefix: string) =>
  step.usage.filter((usage) => usage.name.startsWith(prefix)).reduce((sum, usage) => sum + usage.cpuMs, 0);

const perDelivery = (step: Step, cpuMs: number) =>
  step.result.delivery.delivered > 0 ? (cpuMs * 1000) / step.result.delivery.delivered : undefined;

/** CPU time of the service's instances (all summed) per checked delivery, µs; none when one died (its time is lost). */
export function instanceUsPerDelivery(step: Step): number | undefined {
  if (step.usage.some((usage) => usage.name.startsWith("instance") && usage.died)) return undefined;
  return perDelivery(step, cpuMsOf(step, "instance"));
}

/** CPU time of the load generator's processes per checked delivery, µs (drawing, receiving and checking). */
export function generatorUsPerDelivery(step: Step): number | undefined {
  return perDelivery(step, cpuMsOf(step, "load"));
}

/** Of the generator's, decoding and checking alone, µs per delivery. */
export function checkUsPerDelivery(step: Step): number | undefined {
  return perDelivery(
    step,
    step.result.generator.reduce((sum, process) => sum + process.checkMs, 0),
  );
}

/** The worst event-loop delay p99 of the generator's processes, ms. */
export function generatorLoopDelayP99(step: Step): number {
  return Math.max(0, ...step.result.generator.map((process) => process.loopDelayMs.p99));
}

export function percentOfCore(step: Step, prefix: string): number {
  return Math.round(cpuMsOf(step, prefix) / 10 / step.windowSeconds);
}

/** Redis commands (INFO commandstats) per stored piece (ours) or relayed message (baseline). */
export function redisCommandsPerPiece(step: Step): number | undefined {
  const pieces = step.result.piecesStored;
  if (!pieces) return undefined;
  return Object.values(step.redis).reduce((sum, count) => sum + count.calls, 0) / pieces;
}

/** Redis's own CPU time per stored piece (or relayed message), µs. */
export function redisUsPerPiece(step: Step): number | undefined {
  const pieces = step.result.piecesStored;
  return pieces ? (cpuMsOf(step, "redis") * 1000) / pieces : undefined;
}

/**
 * Redis's time in the commands that store or relay a piece, per stored piece (relayed message), µs: the draw script
 * (EVALSHA, the commands it calls included) for ours, PUBLISH for the baseline. The rest of Redis's CPU per piece is
 * its connections' work (TLS, reading and writing sockets) and its own timers, which the commands do not count.
 */
export function redisCommandUsPerPiece(step: Step): number | undefined {
  const pieces = step.result.piecesStored;
  if (!pieces) return undefined;
  const storing = step.redis.evalsha ?? step.redis.publish;
  return storing ? storing.usec / pieces : undefined;
}

/** Pieces per store call, from the instances' counters (ours). */
export function piecesPerStoreCall(step: Step): number | undefined {
  const counters = step.instances;
  return counters?.piecesStored !== undefined && counters.storeCalls
    ? counters.piecesStored / counters.storeCalls
    : undefined;
}

/** Checked deliveries per second the step asked for: every sample to every other checking client. */
export function deliveriesPerSecond(step: Step): number {
  return step.result.delivery.expected / step.result.drawSeconds;
}

/** Linear least-squares fit y = intercept + slope × x. */
export function linearFit(points: readonly (readonly [x: number, y: number])[]): {
  slope: number;
  intercept: number;
  r2: number;
} {
  const n = points.length;
  if (n < 2) return { slope: 0, intercept: points[0]?.[1] ?? 0, r2: 0 };
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxx += (x - meanX) ** 2;
    sxy += (x - meanX) * (y - meanY);
    syy += (y - meanY) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: meanY - slope * meanX, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy) };
}
