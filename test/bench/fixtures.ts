/** Results as the measuring programs write them, made up for the pure tests of the analysis and the reports. */
import type { CompareResults, Load, Run, Step, StepKind } from "../../bench/lib/results";

export interface StepFigures {
  kind: StepKind;
  rate: number;
  p50: number;
  p99: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  corrupt: number;
  stray: number;
  refusedBy: Record<string, number>;
  died: string[];
  /** CPU ms over the step: the instances, Redis and the generator's processes (each summed). */
  instanceCpuMs: number;
  redisCpuMs: number;
  loadCpuMs: number;
  piecesStored: number;
  redisCalls: Record<string, number>;
  storeCalls: number;
  framesPerReceiverPerSecond: number;
  drawerInstances: number;
  loopDelayP99: number;
  /** Samples drawn and never acknowledged by the end of the drain. */
  awaiting: number;
}

export function step(overrides: Partial<StepFigures> = {}): Step {
  const f: StepFigures = {
    kind: "ladder",
    rate: 60,
    p50: 10,
    p99: 40,
    expected: 10_000,
    delivered: 10_000,
    lost: 0,
    duplicates: 0,
    corrupt: 0,
    stray: 0,
    refusedBy: {},
    died: [],
    instanceCpuMs: 300,
    redisCpuMs: 60,
    loadCpuMs: 200,
    piecesStored: 600,
    redisCalls: { evalsha: 300, publish: 0 },
    storeCalls: 300,
    framesPerReceiverPerSecond: 30,
    drawerInstances: 1,
    loopDelayP99: 5,
    awaiting: 0,
    ...overrides,
  };
  if (overrides.lost !== undefined && overrides.delivered === undefined) f.delivered = f.expected - f.lost;
  return {
    kind: f.kind,
    rate: f.rate,
    drawers: Math.max(1, Math.ceil(f.rate / 60)),
    hz: f.rate / Math.max(1, Math.ceil(f.rate / 60)),
    drawerInstances: f.drawerInstances,
    cursorHz: 0,
    result: {
      latency: { count: f.delivered, p50: f.p50, p95: f.p99, p99: f.p99, max: f.p99 * 2 },
      samplerLag: { count: 600, p50: 0.5, p95: 1, p99: 2, max: 3 },
      delivery: {
        expected: f.expected,
        delivered: f.delivered,
        lost: f.lost,
        duplicates: f.duplicates,
        corrupt: f.corrupt,
        stray: f.stray,
        unstoredDelivered: 0,
        receiversWithLoss: f.lost ? 1 : 0,
      },
      samples: 600,
      samplesBy: { stored: 600, refused: 0, unanswered: 0, awaiting: f.awaiting },
      piecesSent: f.piecesStored,
      piecesStored: f.piecesStored,
      refusedBy: f.refusedBy,
      errors: { connectErrors: 0, disconnects: 0 },
      cursors: { sent: 0, frames: 0, positions: 0 },
      receivers: 100,
      framesPerReceiverPerSecond: f.framesPerReceiverPerSecond,
      drawSeconds: 10,
      drainedMs: 1_000,
      generator: [
        {
          role: "drawers",
          receivers: 1,
          arrived: 100,
          frames: 100,
          cpuMs: f.loadCpuMs / 2,
          checkMs: 5,
          loopDelayMs: { p50: 1, p99: f.loopDelayP99, max: f.loopDelayP99 },
        },
        {
          role: "receivers",
          receivers: 99,
          arrived: f.delivered - 100,
          frames: 9_900,
          cpuMs: f.loadCpuMs / 2,
          checkMs: 20,
          loopDelayMs: { p50: 1, p99: f.loopDelayP99, max: f.loopDelayP99 },
        },
      ],
    },
    usage: [
      { name: "instance-a", cpuPercent: 0, cpuMs: f.instanceCpuMs, rssMb: 100, died: f.died.includes("instance-a") },
      { name: "redis", cpuPercent: 0, cpuMs: f.redisCpuMs, rssMb: 10, died: false },
      { name: "load-1", cpuPercent: 0, cpuMs: f.loadCpuMs, rssMb: 80, died: false },
    ],
    windowSeconds: 11,
    died: f.died,
    redis: Object.fromEntries(
      Object.entries(f.redisCalls)
        .filter(([, calls]) => calls > 0)
        .map(([name, calls]) => [name, { calls, usec: calls }]),
    ),
    instances: { refusals: {}, piecesStored: f.piecesStored, storeCalls: f.storeCalls },
    loadAverage: 1.5,
  };
}

export function run(load: Load, clients: number, steps: Step[], instances = 3): Run {
  return { load, clients, instances, steps };
}

export function compareResults(runs: Run[]): CompareResults {
  return {
    generatedAt: "2026-12-07T12:00:00.000Z",
    durationSeconds: 1_500,
    machine: {
      cpus: 2,
      model: "Test CPU",
      memoryGiB: 24,
      os: "Linux",
      node: "v20",
      redis: "Redis 7.0",
      loadBefore: [1, 1, 1],
    },
    settings: {
      clients: [750, 150],
      levels: [15, 30, 45, 60, 90, 120],
      alwaysUpTo: 60,
      seconds: 10,
      workers: 3,
      loads: ["baseline", "unbatched", "session"],
      instances: 3,
      samplesPerLine: 60,
      sampleHz: 60,
      referenceClients: 750,
      referenceRate: 60,
      repeats: 2,
      overloadClients: 750,
      overloadRate: 480,
      cursorHz: 0,
      cursorLevel: 120,
      frames: { instances: 6, clients: 150, drawers: 6, rate: 60, placements: [1, 3, 6] },
      drain: { minMs: 1_000, quietMs: 1_000, maxMs: 30_000 },
      protocolVersion: 1,
      overrides: [],
    },
    receiverCost: { frames: 1_000, samplesPerFrame: 1, usPerFrame: 1.5, usPerSample: 1.5, parseUsPerFrame: 2 },
    runs,
  };
}
