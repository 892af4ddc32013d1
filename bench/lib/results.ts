/**
 * The shape of what the measuring programs write (bench/results.json, bench/scale-out.json, bench/soak.json) and
 * the report renderer (bench/report.ts) reads. Figures only: no targets, no verdicts.
 */
import type { DrawResult } from "./load-workers";
import type { ProcessUsage } from "./process-stats";

export type Load = "baseline" | "unbatched" | "session";

/**
 * - ladder: a step of the rate ladder (one board, 3 instances);
 * - repeat: the reference step run again, for its spread;
 * - overload: 8 drawers whatever the ladder reached;
 * - cursors: the same drawing without, then with, every client moving its cursor;
 * - frames: drawers placed on a given number of instances.
 */
export type StepKind = "ladder" | "repeat" | "overload" | "cursors" | "frames";

export interface CommandCount {
  calls: number;
  usec: number;
}

/** Counters of ours' instances summed over them, over one step (absent for the baseline or when not exported). */
export interface InstanceCounters {
  piecesStored?: number;
  storeCalls?: number;
  refusals: Record<string, number>;
  opsFrames?: number;
  opsRecipients?: number;
  cursorFrames?: number;
  cursorRecipients?: number;
  pubsubBytes?: number;
}

export interface Step {
  kind: StepKind;
  /** Pointer samples per second in all, and how they are drawn. */
  rate: number;
  drawers: number;
  hz: number;
  /** Instances with at least one drawer. */
  drawerInstances: number;
  cursorHz: number;
  result: DrawResult;
  usage: ProcessUsage[];
  /** Wall time of the CPU window (drawing and drain), s. */
  windowSeconds: number;
  /** Processes that died during the step. */
  died: string[];
  /** Redis INFO commandstats over the step, the benchmark's own INFO left out. */
  redis: Record<string, CommandCount>;
  instances?: InstanceCounters;
  /** The machine's 1-minute load average after the step. */
  loadAverage: number;
}

export interface Run {
  load: Load;
  clients: number;
  instances: number;
  memory?: { rssIdleMb: number[]; rssConnectedMb: number[]; kbPerConnection: number };
  steps: Step[];
}

export interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  os: string;
  node: string;
  redis: string;
  loadBefore: number[];
}

/** What checking costs a receiver, measured on synthetic frames in one process (no network). */
export interface ReceiverCost {
  frames: number;
  samplesPerFrame: number;
  usPerFrame: number;
  usPerSample: number;
  /** Socket.IO's parser on the same frames (JSON included): what any client pays before our check. */
  parseUsPerFrame: number;
}

export interface CompareSettings {
  clients: number[];
  levels: number[];
  /** Levels up to this always run; above it, only while the step before was sustained. */
  alwaysUpTo: number;
  seconds: number;
  workers: number;
  loads: Load[];
  instances: number;
  samplesPerLine: number;
  sampleHz: number;
  referenceClients: number;
  referenceRate: number;
  repeats: number;
  overloadClients: number;
  overloadRate: number;
  cursorHz: number;
  cursorLevel: number;
  frames: { instances: number; clients: number; drawers: number; rate: number; placements: number[] };
  drain: { minMs: number; quietMs: number; maxMs: number };
  protocolVersion: number;
  /** Options set to other than their defaults (`NAME=value`); empty for a default run. */
  overrides: string[];
}

export interface CompareResults {
  generatedAt: string;
  durationSeconds: number;
  machine: Machine;
  settings: CompareSettings;
  receiverCost: ReceiverCost;
  runs: Run[];
}

interface ScaleInstance {
  name: string;
  boards: number;
  /** Over the run's window: pieces stored on the boards this instance serves. */
  piecesOnServedBoards: number;
  /** Bytes Redis sent on the instance's subscriber connection (TLS records included). */
  subscriberWireBytes: number;
  /** Pub/sub message bytes as ours' adapter counts them (payloads, before decoding); the plain adapter has none. */
  pubsubBytes?: number;
  /** Every byte Redis sent the instance, on all its connections. */
  redisBytes: number;
  cpuPercent: number;
}

export interface ScaleRun {
  system: "sharded" | "plain";
  instances: number;
  boards: number;
  users: number;
  /** The measured window, s; the counts below are over it. */
  seconds: number;
  pieces: number;
  deliveries: number;
  errors: number;
  redisCpuPercent: number;
  perInstance: ScaleInstance[];
}

export interface ScaleResults {
  generatedAt: string;
  machine: Machine;
  settings: { instances: number[]; loads: string[]; seconds: number; strokeMs: number; pointsPerStroke: number };
  runs: ScaleRun[];
  failed: string[];
  loadAfter: number[];
}

export interface SoakSample {
  /** Seconds since the soak's drawing began. */
  at: number;
  rssMb: number[];
  heapUsedMb: number[];
  redisUsedMb: number;
  /** Pieces stored so far (acknowledged). */
  piecesStored: number;
}

export interface SoakWindow {
  at: number;
  result: DrawResult;
}

export interface SoakResults {
  generatedAt: string;
  machine: Machine;
  settings: {
    minutes: number;
    clients: number;
    boards: number;
    linesPerSecond: number;
    samplesPerLine: number;
    instances: number;
    sampleSeconds: number;
    windowSeconds: number;
  };
  samples: SoakSample[];
  windows: SoakWindow[];
  /** What the store held at the end: visible records, their bytes as sent, and Redis's memory then and at start. */
  stored: { records: number; recordBytes: number; redisUsedStartMb: number; redisUsedEndMb: number };
  instanceUsage: ProcessUsage[];
}
