/**
 * Renders bench/RESULTS.md from what the measuring programs wrote (bench/results.json, bench/scale-out.json) and
 * bench/CATCHUP.md when present. Pure: the figures in, Markdown out. The performance targets are shown next to the
 * figures, labelled as targets; whether each is met is judged on the unbatched load, the one they were set for.
 */
import {
  allDelivered,
  checkUsPerDelivery,
  deliveriesPerSecond,
  generatorLoopDelayP99,
  generatorUsPerDelivery,
  highestSustained,
  instanceUsPerDelivery,
  percentOfCore,
  piecesPerStoreCall,
  problems,
  redisCommandsPerPiece,
  redisCommandUsPerPiece,
  redisUsPerPiece,
  sustained,
  SUSTAINED_P99_MS,
} from "./analysis";
import { num, percent, range, table } from "./markdown";
import type { CompareResults, Load, Run, ScaleResults, ScaleRun, Step } from "./results";

export interface ResultsInputs {
  compare?: CompareResults;
  scale?: ScaleResults;
  /** bench/CATCHUP.md's text, when the catch-up benchmark has written it. */
  catchUp?: string;
}

const LOAD_NAMES: Record<Load, string> = {
  baseline: "baseline",
  unbatched: "ours, unbatched",
  session: "ours, session",
};

/** The performance targets, as they were worded when set. */
export const TARGETS = {
  light: "p99 ≤ 1.2× baseline's",
  crowded: "p99 ≤ baseline's",
  reference: "p99 ≤ 0.2× baseline's",
  highest: "≥ 5× / ≥ 3× baseline's",
  overload: "100% delivered, p99 < 1 s",
  frames: "≤ 32 whatever the instance count",
  cpu: "≤ 0.8× baseline's at every rate from 15/s",
  commands: "≤ 5 at 1 per call",
  redisCpu: "≤ 100 µs",
  pubsub: "≤ plain's",
  catchUp: "< 1,000 / ≤ 100 ms",
} as const;
const HIGHEST_FACTORS: Record<number, number> = { 150: 5, 750: 3 };
const FRAMES_CAP = 32;
const CPU_RATIO = 0.8;
const COMMANDS_CAP = 5;
const REDIS_US_CAP = 100;
const OVERLOAD_P99_MS = 1_000;

type Verdict = boolean | undefined;
const mark = (met: Verdict) => (met === undefined ? "not measured" : met ? "met" : "**not met**");

function findRun(results: CompareResults, load: Load, clients: number, instances?: number): Run | undefined {
  return results.runs.find(
    (run) =>
      run.load === load &&
      run.clients === clients &&
      (instances === undefined ? run.instances === results.settings.instances : run.instances === instances) &&
      run.steps.some((step) => step.kind !== "frames"),
  );
}

function framesRun(results: CompareResults, load: Load): Run | undefined {
  return results.runs.find((run) => run.load === load && run.steps.some((step) => step.kind === "frames"));
}

/** The ladder runs of a rate (the first run, then its repeats). */
function runsAt(run: Run | undefined, rate: number): Step[] {
  return run?.steps.filter((step) => (step.kind === "ladder" || step.kind === "repeat") && step.rate === rate) ?? [];
}

const first = (run: Run | undefined, rate: number) => runsAt(run, rate)[0];
const p50p99 = (step: Step | undefined) =>
  step ? `${num(step.result.latency.p50, 1)} / ${num(step.result.latency.p99, 1)} ms` : "–";
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
const times = (value: number | undefined, digits = 2) => (value === undefined ? "–" : `${num(value, digits)}×`);

interface HeadlineRow {
  measure: string;
  cells: Record<Load, string>;
  target: string;
  met: Verdict;
}

function headline(
  results: CompareResults,
  scale: ScaleResults | undefined,
  catchUp: string | undefined,
): HeadlineRow[] {
  const loads: Load[] = ["baseline", "unbatched", "session"];
  const rows: HeadlineRow[] = [];
  const cells = (figure: (load: Load) => string) =>
    Object.fromEntries(loads.map((load) => [load, figure(load)])) as Record<Load, string>;

  const latencyRow = (clients: number, rate: number, factor: number, target: string) => {
    const base = first(findRun(results, "baseline", clients), rate);
    const p99Ratio = (load: Load) =>
      ratio(first(findRun(results, load, clients), rate)?.result.latency.p99, base?.result.latency.p99);
    rows.push({
      measure: `${clients} clients, ${rate} events/s: p50 / p99`,
      cells: cells((load) => {
        const step = first(findRun(results, load, clients), rate);
        const relative = load === "baseline" ? "" : ` (p99 ${times(p99Ratio(load))})`;
        return step ? `${p50p99(step)}${relative}${allDelivered(step) ? "" : `; ${problems(step).join("; ")}`}` : "–";
      }),
      target,
      met: ((r) => (r === undefined ? undefined : r <= factor))(p99Ratio("unbatched")),
    });
  };
  latencyRow(150, 60, 1.2, TARGETS.light);
  latencyRow(750, 30, 1, TARGETS.crowded);

  const { referenceClients, referenceRate } = results.settings;
  const baseRuns = runsAt(findRun(results, "baseline", referenceClients), referenceRate);
  const pairedRatios = (load: Load) =>
    runsAt(findRun(results, load, referenceClients), referenceRate).flatMap((step, i) => {
      const base = baseRuns[i];
      return base ? [step.result.latency.p99 / base.result.latency.p99] : [];
    });
  rows.push({
    measure: `${referenceClients} clients, ${referenceRate} events/s: p99 (runs)`,
    cells: cells((load) => {
      const steps = runsAt(findRun(results, load, referenceClients), referenceRate);
      if (steps.length === 0) return "–";
      const p99s = range(
        steps.map((step) => step.result.latency.p99),
        1,
      );
      const lossy = steps.filter((step) => !allDelivered(step)).length;
      const tail = lossy ? `; ${lossy} with losses or faults` : "";
      return load === "baseline"
        ? `${p99s} ms (${steps.length} runs${tail})`
        : `${p99s} ms (${steps.length} runs, ratio ${range(pairedRatios(load), 2)}${tail})`;
    }),
    target: TARGETS.reference,
    met: pairedRatios("unbatched").length ? Math.max(...pairedRatios("unbatched")) <= 0.2 : undefined,
  });

  const counts = [150, 750];
  const highest = (load: Load, clients: number) => {
    const run = findRun(results, load, clients);
    return run ? highestSustained(run.steps) : undefined;
  };
  const highestCell = (load: Load, clients: number) => {
    const run = findRun(results, load, clients);
    if (!run) return "–";
    const best = highest(load, clients);
    const top = Math.max(...run.steps.filter((step) => step.kind === "ladder").map((step) => step.rate));
    if (best === undefined) return `none (not ${Math.min(...run.steps.map((step) => step.rate))})`;
    return best === top && best === Math.max(...results.settings.levels) ? `≥ ${best}` : String(best);
  };
  const highestRatio = (clients: number) => {
    const ours = highest("unbatched", clients);
    const base = highest("baseline", clients);
    if (ours === undefined) return undefined;
    // A baseline that held not even the lowest step: its limit is below it.
    return ours / (base ?? Math.min(...results.settings.levels));
  };
  rows.push({
    measure: `highest rate with p99 < ${SUSTAINED_P99_MS} ms and 100% delivered, ${counts.join(" / ")} clients (events/s)`,
    cells: cells((load) => {
      const figures = counts.map((clients) => highestCell(load, clients)).join(" / ");
      return load === "baseline"
        ? figures
        : `${figures} (${counts.map((clients) => times(highestRatio(clients), 1)).join(" / ")})`;
    }),
    target: TARGETS.highest,
    met: counts.every((clients) => highestRatio(clients) !== undefined)
      ? counts.every((clients) => (highestRatio(clients) as number) >= (HIGHEST_FACTORS[clients] ?? 1))
      : undefined,
  });

  const { overloadClients, overloadRate } = results.settings;
  const overloadStep = (load: Load) =>
    findRun(results, load, overloadClients)?.steps.find((step) => step.rate === overloadRate);
  rows.push({
    measure: `${overloadClients} clients × ${overloadRate / 60} drawers (${overloadRate} events/s)`,
    cells: cells((load) => {
      const step = overloadStep(load);
      if (!step) return "–";
      const { delivery, latency } = step.result;
      const faults = problems(step).filter((text) => !text.includes(" lost ("));
      return `${percent(delivery.delivered, delivery.expected)} delivered, p99 ${num(latency.p99 / 1000, 2)} s${faults.length ? `; ${faults.join("; ")}` : ""}`;
    }),
    target: TARGETS.overload,
    met: ((step) => (step ? allDelivered(step) && step.result.latency.p99 < OVERLOAD_P99_MS : undefined))(
      overloadStep("unbatched"),
    ),
  });

  const framesCell = (load: Load) => {
    const run = framesRun(results, load);
    if (!run) return "–";
    return `${run.steps.map((step) => num(step.result.framesPerReceiverPerSecond, 1)).join(" / ")}`;
  };
  const placements =
    framesRun(results, "unbatched")?.steps.map((step) => step.drawerInstances) ?? results.settings.frames.placements;
  const oursFrames = framesRun(results, "unbatched")?.steps.map((step) => step.result.framesPerReceiverPerSecond);
  rows.push({
    measure: `frames per client per second, drawers on ${placements.join(" / ")} of ${results.settings.frames.instances} instances, ${results.settings.frames.clients} clients, ${results.settings.frames.rate} events/s`,
    cells: cells(framesCell),
    target: TARGETS.frames,
    met: oursFrames?.length ? oursFrames.every((frames) => frames <= FRAMES_CAP) : undefined,
  });

  const cpuRatios = (load: Load) =>
    results.settings.clients.flatMap((clients) => {
      const ours = findRun(results, load, clients);
      const base = findRun(results, "baseline", clients);
      return (ours?.steps ?? [])
        .filter((step) => step.kind === "ladder" && step.died.length === 0)
        .flatMap((step) => {
          const other = first(base, step.rate);
          const value =
            other && other.died.length === 0
              ? ratio(instanceUsPerDelivery(step), instanceUsPerDelivery(other))
              : undefined;
          return value === undefined ? [] : [{ clients, rate: step.rate, value }];
        });
    });
  rows.push({
    measure: "instance CPU per delivery, 30 events/s, 750 / 150 clients (baseline = 1); worst ratio at any rate",
    cells: cells((load) => {
      const at30 = [750, 150].map((clients) => first(findRun(results, load, clients), 30));
      const us = at30.map((step) => (step ? `${num(instanceUsPerDelivery(step), 1)} µs` : "–")).join(" / ");
      if (load === "baseline") return `1 (${us})`;
      const base30 = [750, 150].map((clients) => first(findRun(results, "baseline", clients), 30));
      const ratios = at30.map((step, i) =>
        times(ratio(step && instanceUsPerDelivery(step), base30[i] && instanceUsPerDelivery(base30[i]))),
      );
      const worst = cpuRatios(load).sort((a, b) => b.value - a.value)[0];
      return `${ratios.join(" / ")} (${us}); worst ${worst ? `${times(worst.value)} at ${worst.rate}/s, ${worst.clients} clients` : "–"}`;
    }),
    target: TARGETS.cpu,
    met: cpuRatios("unbatched").length ? cpuRatios("unbatched").every(({ value }) => value <= CPU_RATIO) : undefined,
  });

  const allSteps = (load: Load) =>
    results.runs
      .filter((run) => run.load === load)
      .flatMap((run) => run.steps.filter((step) => step.kind !== "cursors"));
  /** The step whose pieces per store call is nearest `perCall` (ours), with its commands per piece. */
  const commandsAt = (load: Load, perCall: number) => {
    const candidates = allSteps(load).filter(
      (step) => piecesPerStoreCall(step) !== undefined && step.died.length === 0,
    );
    const nearest = candidates.sort(
      (a, b) =>
        Math.abs((piecesPerStoreCall(a) as number) - perCall) - Math.abs((piecesPerStoreCall(b) as number) - perCall),
    )[0];
    return nearest
      ? { step: nearest, perCall: piecesPerStoreCall(nearest) as number, commands: redisCommandsPerPiece(nearest) }
      : undefined;
  };
  rows.push({
    measure: "Redis commands per stored stroke (1 / 2 strokes per call)",
    cells: cells((load) => {
      if (load === "baseline") {
        const step = first(findRun(results, "baseline", referenceClients), referenceRate);
        return step ? `${num(redisCommandsPerPiece(step), 2)} per relayed message` : "–";
      }
      const [one, two] = [commandsAt(load, 1), commandsAt(load, 2)];
      const describe = (found: ReturnType<typeof commandsAt>) =>
        found ? `${num(found.commands, 1)} (${num(found.perCall, 2)}/call at ${found.step.rate}/s)` : "–";
      return `${describe(one)} / ${describe(two)}`;
    }),
    target: TARGETS.commands,
    met: ((found) => (found?.commands === undefined ? undefined : found.commands <= COMMANDS_CAP))(
      commandsAt("unbatched", 1),
    ),
  });

  /** A per-piece figure of every run's 60 events/s steps of `load`, where it has one. */
  const at60 = (load: Load, figure: (step: Step) => number | undefined) =>
    results.runs
      .filter((run) => run.load === load && run.instances === results.settings.instances)
      .flatMap((run) => runsAt(run, 60))
      .flatMap((step) => ((value) => (value === undefined ? [] : [value]))(figure(step)));
  const redisUs = (load: Load) => at60(load, redisUsPerPiece);
  const commandUs = (load: Load) => at60(load, redisCommandUsPerPiece);
  rows.push({
    measure:
      "Redis CPU per stored stroke (per relayed message), 60 events/s, every run: the process; in the storing command (EVALSHA / PUBLISH)",
    cells: cells((load) =>
      redisUs(load).length
        ? `${range(redisUs(load))} µs; ${commandUs(load).length ? range(commandUs(load)) : "–"} µs`
        : "–",
    ),
    target: TARGETS.redisCpu,
    met: redisUs("unbatched").length ? Math.max(...redisUs("unbatched")) <= REDIS_US_CAP : undefined,
  });

  const wire = scale ? subscriberWire(scale) : undefined;
  rows.push({
    measure:
      "pub/sub bytes on the subscriber's wire per stroke received (scale-out; plain for the baseline, sharded for ours)",
    cells: {
      baseline: wire ? `${range(wire.plain)} B` : "–",
      unbatched: wire ? `${range(wire.sharded)} B` : "–",
      session: "(same service)",
    },
    target: TARGETS.pubsub,
    met:
      wire && wire.plain.length && wire.sharded.length
        ? Math.max(...wire.sharded) <= Math.min(...wire.plain)
        : undefined,
  });

  const catchUpHeadline = catchUp && /<!--\s*catchup-headline:\s*([^>]*?)\s*-->/.exec(catchUp)?.[1];
  rows.push({
    measure: "Chromium, 100k strokes × 16 points fully drawn / first paint",
    cells: {
      baseline: "— (keeps nothing)",
      unbatched: catchUp
        ? `${catchUpHeadline ? `${catchUpHeadline} ms; ` : ""}see [Late joiner catch-up](#late-joiner-catch-up)`
        : "not run: `make bench-catchup` writes bench/CATCHUP.md",
      session: "(same page)",
    },
    target: TARGETS.catchUp,
    met: undefined,
  });
  return rows;
}

/** Subscriber-wire bytes per stroke an instance receives, per run of each system (mean over its instances). */
function subscriberWire(scale: ScaleResults): { plain: number[]; sharded: number[] } {
  const perStroke = (run: ScaleRun) => {
    const bytes = run.perInstance.reduce((sum, instance) => sum + instance.subscriberWireBytes, 0);
    // Plain: every instance receives every stroke; sharded: those of the boards it serves.
    const strokes = run.perInstance.reduce(
      (sum, instance) => sum + (run.system === "plain" ? run.pieces : instance.piecesOnServedBoards),
      0,
    );
    return strokes > 0 ? bytes / strokes : Number.NaN;
  };
  return {
    plain: scale.runs.filter((run) => run.system === "plain").map(perStroke),
    sharded: scale.runs.filter((run) => run.system === "sharded").map(perStroke),
  };
}

/** Whether the generator, rather than the service, may have set a step's figures. */
export function generatorBound(step: Step): boolean {
  const generator = generatorUsPerDelivery(step);
  const instances = instanceUsPerDelivery(step);
  return (
    (generator !== undefined && instances !== undefined && generator > instances) ||
    generatorLoopDelayP99(step) >= 0.5 * step.result.latency.p99
  );
}

function generatorTable(results: CompareResults): string {
  const { referenceClients, referenceRate, overloadClients, overloadRate } = results.settings;
  const picks: { label: string; clients: number; rate: number }[] = [
    { label: "150 clients, 60/s", clients: 150, rate: 60 },
    { label: "750 clients, 30/s", clients: 750, rate: 30 },
    {
      label: `${referenceClients} clients, ${referenceRate}/s (first run)`,
      clients: referenceClients,
      rate: referenceRate,
    },
    { label: `${overloadClients} clients, ${overloadRate}/s`, clients: overloadClients, rate: overloadRate },
  ];
  for (const clients of results.settings.clients) {
    for (const load of ["baseline", "unbatched"] as const) {
      const best = ((run) => (run ? highestSustained(run.steps) : undefined))(findRun(results, load, clients));
      if (best !== undefined)
        picks.push({ label: `${clients} clients, ${best}/s (highest held, ${LOAD_NAMES[load]})`, clients, rate: best });
    }
  }
  const rows = picks.flatMap(({ label, clients, rate }) =>
    results.settings.loads.flatMap((load) => {
      const step = findRun(results, load, clients)?.steps.find((s) => s.rate === rate);
      if (!step) return [];
      return [
        [
          label,
          LOAD_NAMES[load],
          num(step.result.latency.p99, 1),
          num(generatorLoopDelayP99(step), 1),
          num(step.result.samplerLag.p99, 1),
          num(generatorUsPerDelivery(step), 2),
          num(checkUsPerDelivery(step), 2),
          num(instanceUsPerDelivery(step), 2),
          `${percentOfCore(step, "load")} / ${percentOfCore(step, "instance")}`,
          generatorBound(step) ? "**maybe**" : "no",
        ],
      ];
    }),
  );
  return table(
    [
      "step",
      "load",
      "latency p99 ms",
      "generator event-loop delay p99 ms",
      "send lag p99 ms",
      "generator CPU µs/delivery",
      "checking: wall time in handlers µs/delivery",
      "instances' CPU µs/delivery",
      "CPU % generator / instances",
      "generator may set it",
    ],
    rows,
  );
}

function ladderTables(results: CompareResults, clients: number): string {
  const loads = results.settings.loads.filter((load) => findRun(results, load, clients));
  const runs = loads.map((load) => findRun(results, load, clients) as Run);
  const rates = [
    ...new Set(runs.flatMap((run) => run.steps.filter((s) => s.kind !== "cursors").map((s) => s.rate))),
  ].sort((a, b) => a - b);
  const cells = (rate: number, figure: (step: Step) => string) =>
    runs
      .map((run) =>
        ((step) => (step ? figure(step) : "–"))(run.steps.find((s) => s.rate === rate && s.kind !== "cursors")),
      )
      .join(" / ");
  const latency = rates.map((rate) => {
    const any = runs.map((run) => run.steps.find((s) => s.rate === rate)).find(Boolean) as Step;
    return [
      `${rate} (${any.drawers} × ${num(any.hz, 1)})`,
      cells(rate, (step) => num(deliveriesPerSecond(step))),
      cells(rate, (step) => percent(step.result.delivery.delivered, step.result.delivery.expected)),
      cells(
        rate,
        (step) => `${step.result.delivery.lost}/${step.result.delivery.duplicates}/${step.result.delivery.corrupt}`,
      ),
      cells(rate, (step) => num(step.result.latency.p50, 1)),
      cells(rate, (step) => num(step.result.latency.p99, 1)),
      cells(rate, (step) => num(step.result.latency.max, 1)),
      cells(rate, (step) => (sustained(step) ? "yes" : "no")),
      cells(rate, (step) => problems(step).join("; ") || "–"),
      cells(rate, (step) => num(step.result.drainedMs)),
    ];
  });
  const cost = rates.map((rate) => [
    String(rate),
    cells(rate, (step) => num(step.result.piecesStored / step.result.drawSeconds)),
    cells(rate, (step) => num(step.result.framesPerReceiverPerSecond, 1)),
    cells(rate, (step) => num(piecesPerStoreCall(step), 1)),
    cells(rate, (step) => String(percentOfCore(step, "instance"))),
    cells(rate, (step) => num(instanceUsPerDelivery(step), 2)),
    cells(rate, (step) => String(percentOfCore(step, "redis"))),
    cells(rate, (step) => num(redisUsPerPiece(step))),
    cells(rate, (step) => num(redisCommandUsPerPiece(step))),
    cells(rate, (step) => num(redisCommandsPerPiece(step), 1)),
    cells(rate, (step) => String(percentOfCore(step, "load"))),
    cells(rate, (step) => num(generatorUsPerDelivery(step), 2)),
    cells(rate, (step) => num(generatorLoopDelayP99(step), 1)),
    cells(rate, (step) => num(step.result.samplerLag.p99, 1)),
    cells(rate, (step) => num(step.loadAverage, 1)),
  ]);
  const header = loads.map((load) => LOAD_NAMES[load]).join(" / ");
  return `### ${clients} clients (${Math.round(clients / results.settings.instances)} per instance)
Each cell: ${header}. Samples/s in: drawers × samples per second each. Deliveries/s: every stored sample to every
other checking client. Delivered: deliveries checked intact / expected; lost/dup/corrupt: counts. Sustained: p99
under ${SUSTAINED_P99_MS} ms, every delivery intact and once, nothing refused, no connection or instance lost. Rows of
the reference step show its first run (all runs: [below](#reference-step-runs)).

${table(["samples/s in", "deliveries/s", "delivered", "lost/dup/corrupt", "p50 ms", "p99 ms", "max ms", "sustained", "problems", "drain ms"], latency)}

Cost. Pieces/s: pieces stored (ours: acknowledged) or relayed (baseline) per second. Frames/client/s: board-change
messages each checking client received per second of drawing. CPU %: of one core over the step and its drain, the
processes of a kind summed; µs/delivery: CPU time per checked delivery. Redis µs and commands per piece: Redis's CPU
time and \`INFO commandstats\` calls per stored piece (relayed message); storing command µs: \`INFO commandstats\`
time of the draw script (EVALSHA, with the commands it calls) or the baseline's PUBLISH, per piece: the rest of
Redis's CPU is its connections' work (TLS, sockets) and its own timers. Generator: the ${results.settings.workers} load processes.

${table(
  [
    "samples/s in",
    "pieces/s",
    "frames/client/s",
    "pieces/store call",
    "instance CPU %",
    "instance µs/delivery",
    "Redis CPU %",
    "Redis µs/piece",
    "of which storing command µs/piece",
    "Redis commands/piece",
    "generator CPU %",
    "generator µs/delivery",
    "generator loop delay p99 ms",
    "send lag p99 ms",
    "load avg",
  ],
  cost,
)}
`;
}

function referenceTable(results: CompareResults): string {
  const { referenceClients, referenceRate } = results.settings;
  const rows = results.settings.loads.flatMap((load) =>
    runsAt(findRun(results, load, referenceClients), referenceRate).map((step, i) => [
      LOAD_NAMES[load],
      String(i + 1),
      num(step.result.latency.p50, 1),
      num(step.result.latency.p99, 1),
      percent(step.result.delivery.delivered, step.result.delivery.expected),
      num(generatorLoopDelayP99(step), 1),
      num(instanceUsPerDelivery(step), 2),
      num(generatorUsPerDelivery(step), 2),
      problems(step).join("; ") || "–",
    ]),
  );
  return rows.length
    ? table(
        [
          "load",
          "run",
          "p50 ms",
          "p99 ms",
          "delivered",
          "generator loop delay p99 ms",
          "instance µs/delivery",
          "generator µs/delivery",
          "problems",
        ],
        rows,
      )
    : "(not run)";
}

function framesTable(results: CompareResults): string {
  const runs = results.settings.loads.flatMap((load) => ((run) => (run ? [run] : []))(framesRun(results, load)));
  if (runs.length === 0) return "(not run)";
  const rows = runs.flatMap((run) =>
    run.steps.map((step) => [
      LOAD_NAMES[run.load],
      `${step.drawerInstances} of ${run.instances}`,
      `${step.drawers} × ${num(step.hz, 1)}`,
      num(step.result.framesPerReceiverPerSecond, 1),
      step.instances?.opsFrames !== undefined ? num(step.instances.opsFrames / step.windowSeconds) : "–",
      num(step.result.latency.p99, 1),
      percent(step.result.delivery.delivered, step.result.delivery.expected),
      num(instanceUsPerDelivery(step), 2),
      problems(step).join("; ") || "–",
    ]),
  );
  return table(
    [
      "load",
      "drawers on instances",
      "drawers × samples/s",
      "frames/client/s",
      "frames sent by instances/s",
      "p99 ms",
      "delivered",
      "instance µs/delivery",
      "problems",
    ],
    rows,
  );
}

/**
 * What commands Redis ran per stored piece (ours) or relayed message (baseline), and why: protocol version 2's store
 * (docs/store.md, "The scripts").
 */
const COMMAND_REASONS: Record<string, string> = {
  evalsha:
    "one per store call: a board's Lua script (`draw` for adds and appends; `set_visibility`, `edit`, `clear`, `unclear`, `read`, `presence`); the commands marked (Lua) run inside one",
  hmget:
    "(Lua) per script, the board's meta hash (`draw`: with the open page's text); per `draw` with adds, their ids in the index",
  hset: "(Lua) per `draw`, the meta hash with the open page's text; a closed page and new index entries when a page closes or an element is new; per `presence`, the instance's count",
  rpush: "(Lua) per write call, its operations onto the board's log",
  spublish: "per write call, its `ops` to the board's sharded channel; also cursors and presence news",
  hget: "(Lua) a closed page's text or flip count: an append to a line on a closed page, a visibility change, an edit, a read",
  expire: "(Lua) the five keys' idle TTL, refreshed by the first write call after a minute (`t`)",
  lpop: "(Lua) the oldest log entries, 8 at a time, once the log passes its byte cap",
  info: "`INFO replication` once per Redis connection (the store's generation); `INFO memory` when an instance's metrics are scraped (before and after each step); inside the scripts only on a Redis Cluster",
  time: "(Lua) the clock of the presence script",
  hgetall: "(Lua) the presence hash, per presence call",
  hdel: "(Lua) expired presence entries; the pages and index entries a clear deletes once the clear before it can no longer be undone",
  pexpire: "(Lua) the presence hash's TTL, per presence write",
  del: "(Lua) a new board's keys, before they are made",
  hstrlen: "(Lua) whether a closed page holds records (a clear)",
  hexists: "(Lua) whether a page a clear hid is still kept (its undo)",
  lrange: "(Lua) a log read (a client catching up from the log)",
  publish: "the baseline: one per relayed message, the Redis adapter's broadcast to every instance",
  ping: "node-redis's keep-alive and the metrics' PING probe, every 5 s each",
  ssubscribe: "an instance subscribing to the board's channel when its first client joins",
  sunsubscribe: "an instance leaving the board's channel when its last client leaves",
};

function redisTable(results: CompareResults): string {
  const { referenceClients, referenceRate } = results.settings;
  const entries = results.settings.loads.flatMap((load) =>
    ((step) => (step ? [{ load, step }] : []))(first(findRun(results, load, referenceClients), referenceRate)),
  );
  if (entries.length === 0) return "(no step at this load)";
  const names = [...new Set(entries.flatMap(({ step }) => Object.keys(step.redis)))].sort(
    (a, b) =>
      Math.max(...entries.map(({ step }) => step.redis[b]?.calls ?? 0)) -
      Math.max(...entries.map(({ step }) => step.redis[a]?.calls ?? 0)),
  );
  const per = (step: Step) => step.result.piecesStored || 1;
  const rows = names.map((name) => [
    name,
    ...entries.map(({ step }) => num((step.redis[name]?.calls ?? 0) / per(step), 2)),
    COMMAND_REASONS[name] ?? "**not explained**",
  ]);
  rows.push(["**all**", ...entries.map(({ step }) => num(redisCommandsPerPiece(step), 2)), ""]);
  rows.push(["Redis CPU µs (the process)", ...entries.map(({ step }) => num(redisUsPerPiece(step))), ""]);
  return table(
    [
      "command",
      ...entries.map(({ load }) => `${LOAD_NAMES[load]} (per ${load === "baseline" ? "message" : "stored piece"})`),
      "why",
    ],
    rows,
  );
}

function cursorTable(results: CompareResults): string {
  const rows = results.runs.flatMap((run) =>
    run.steps
      .filter((step) => step.kind === "cursors")
      .map((step) => [
        String(run.clients),
        `${step.rate} (${step.drawers} × ${num(step.hz, 1)})`,
        step.cursorHz ? `${step.cursorHz} Hz` : "none",
        num(step.result.latency.p99, 1),
        percent(step.result.delivery.delivered, step.result.delivery.expected),
        step.cursorHz
          ? `${num(step.result.cursors.sent / step.result.drawSeconds)} of ${num(run.clients * step.cursorHz)}`
          : "0",
        step.instances?.cursorFrames !== undefined ? num(step.instances.cursorFrames / step.windowSeconds) : "–",
        num(step.result.cursors.frames / step.windowSeconds),
        String(percentOfCore(step, "instance")),
        String(percentOfCore(step, "redis")),
        String(percentOfCore(step, "load")),
        problems(step).join("; ") || "–",
      ]),
  );
  return rows.length
    ? table(
        [
          "clients",
          "samples/s in (session drawers)",
          "cursors",
          "p99 ms",
          "delivered",
          "positions sent/s (of those meant)",
          "cursor frames sent by instances/s",
          "cursor frames received/s",
          "instance CPU %",
          "Redis CPU %",
          "generator CPU %",
          "problems",
        ],
        rows,
      )
    : "(not run)";
}

function memoryTable(results: CompareResults): string {
  const rows = results.runs.flatMap((run) =>
    run.memory
      ? [
          [
            LOAD_NAMES[run.load],
            String(run.clients),
            run.memory.rssIdleMb.join(" / "),
            run.memory.rssConnectedMb.join(" / "),
            num(run.memory.kbPerConnection, 1),
          ],
        ]
      : [],
  );
  return rows.length
    ? table(["system", "clients", "idle MB", "connected MB", "per connection KB"], rows)
    : "(not measured)";
}

function scaleSection(scale: ScaleResults | undefined): string {
  if (!scale) return "Not measured in this run (`make bench-scale` writes bench/scale-out.json).";
  const kb = (bytes: number, seconds: number) => num(bytes / 1024 / seconds, 1);
  const rows = scale.runs.map((run) => {
    const boards = run.perInstance.map((instance) => instance.boards);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    const wire = run.perInstance.map((instance) => instance.subscriberWireBytes);
    const received = run.perInstance.map((instance) =>
      run.system === "plain" ? run.pieces : instance.piecesOnServedBoards,
    );
    return [
      String(run.instances),
      `${run.boards} × ${run.users}`,
      run.system,
      `${num(mean(boards))} (${range(boards)})`,
      `${num((100 * mean(boards)) / run.boards)}%`,
      `${kb(mean(wire), run.seconds)} (${range(
        wire.map((bytes) => bytes / 1024 / run.seconds),
        1,
      )})`,
      num(
        received.reduce((a, b) => a + b, 0) > 0
          ? wire.reduce((a, b) => a + b, 0) / received.reduce((a, b) => a + b, 0)
          : Number.NaN,
      ),
      num(run.pieces > 0 ? mean(wire) / run.pieces : Number.NaN),
      run.perInstance.every((instance) => instance.pubsubBytes !== undefined)
        ? kb(mean(run.perInstance.map((instance) => instance.pubsubBytes as number)), run.seconds)
        : "–",
      kb(mean(run.perInstance.map((instance) => instance.redisBytes)), run.seconds),
      num(mean(run.perInstance.map((instance) => instance.cpuPercent)), 1),
      num(run.redisCpuPercent, 1),
      num(run.pieces / run.seconds),
      String(run.errors),
    ];
  });
  return `Made by \`make bench-scale\` (bench/scale-out.ts, also part of \`make bench\`) on ${scale.generatedAt.slice(0, 10)}: load average ${scale.machine.loadBefore.join(", ")} before, ${scale.loadAfter.join(", ")} after.
One drawer per board, a stroke of ${scale.settings.pointsPerStroke} points every ${scale.settings.strokeMs} ms; users placed on instances at random (the same
placement for both systems); ${scale.settings.seconds} s measured per row. Both systems' pub/sub messages carry the same
frame (the stroke's record as ours broadcasts it). Subscriber wire: every byte Redis sent on the instance's subscriber
connection, TLS records included (a counting relay in front of Redis; the subscriber is the connection that sends
Redis next to nothing). Per stroke received: those bytes over the strokes whose messages reach the instance (plain:
every stroke; sharded: those of the boards it serves); per stroke stored: over every stroke of the service.

${table(
  [
    "instances",
    "boards × users",
    "adapter",
    "boards served per instance (min–max)",
    "share of boards",
    "subscriber wire KB/s per instance (min–max)",
    "B per stroke received",
    "B per stroke stored, per instance",
    "pub/sub payload KB/s",
    "Redis → instance KB/s",
    "instance CPU %",
    "Redis CPU %",
    "strokes/s",
    "errors",
  ],
  rows,
)}
${scale.failed.length ? `\nRows that could not be measured:\n\n${scale.failed.map((line) => `- ${line}`).join("\n")}\n` : ""}`;
}

function catchUpSection(catchUp: string | undefined): string {
  if (!catchUp)
    return "Not measured in this run: `make bench-catchup` (bench/catchup.ts) writes bench/CATCHUP.md, shown here.";
  // Its headings one level down, under this section.
  return `From [bench/CATCHUP.md](CATCHUP.md):\n\n${catchUp.replace(/^(#+) /gm, "$1## ").trim()}`;
}

export function renderResults({ compare, scale, catchUp }: ResultsInputs): string {
  if (!compare) throw new Error("bench/results.json is missing: run `make bench` (bench/compare.ts) first");
  const { settings, machine } = compare;
  const rows = headline(compare, scale, catchUp);
  const command = `CLIENTS=${settings.clients.join(",")} LEVELS=${settings.levels.join(",")} ALWAYS_UP_TO=${settings.alwaysUpTo} STEP_SECONDS=${settings.seconds} WORKERS=${settings.workers} LOADS=${settings.loads.join(",")} REPEATS=${settings.repeats} CURSOR_HZ=${settings.cursorHz} CURSOR_LEVEL=${settings.cursorLevel} FRAMES=${settings.frames.placements.join(",")} FRAMES_RATE=${settings.frames.rate} make bench`;
  return `# Benchmark results: this service against the plain Redis-adapter design

Measured by \`make bench\` on ${compare.generatedAt.slice(0, 10)} (bench/compare.ts, ${Math.round(compare.durationSeconds / 60)} min; bench/scale-out.ts) into
bench/results.json and bench/scale-out.json, rendered by bench/report.ts. Do not edit by hand: run it again. How to
read it: [bench/README.md](README.md).

## Machine and command
- ${machine.cpus} × ${machine.model}, ${machine.memoryGiB} GiB, ${machine.os}; Node.js ${machine.node}; ${machine.redis}
- Load average before the run: ${machine.loadBefore.join(", ")} (1, 5, 15 min); each step's is in its table.
- Everything on this machine: Redis (the Memorystore stand-in: TLS, AUTH), ${settings.instances} instances of the system under test,
  ${settings.workers} load-generator processes. The systems run one after the other, each on a fresh Redis and fresh instances.
- Protocol version ${settings.protocolVersion}. Command: \`${command}\`${
    settings.overrides?.length
      ? `\n- **Not the default run** (${settings.overrides.join(", ")}): shortened settings; compare its figures with a full run's only with care.`
      : ""
  }

## The targets
Ours and the baseline in this run; one event per pointer sample with no batching ("ours, unbatched", the load the
targets are judged on) and the browser client's own session; ${settings.instances} instances; one board. Targets are the project's
(docs/figures.md), shown for reference, judged on the unbatched load. Where a figure may be the generator's rather than the service's,
[the next table](#who-set-the-figure-the-generators-share) says so.

${table(
  [
    "measure",
    ...(["baseline", "unbatched", "session"] as const).map((load) => LOAD_NAMES[load]),
    "target",
    "target met",
  ],
  rows.map((row) => [
    row.measure,
    row.cells.baseline,
    row.cells.unbatched,
    row.cells.session,
    row.target,
    mark(row.met),
  ]),
)}

## Who set the figure: the generator's share
Per step: the latency measured, the load generator's own event-loop delay and send lag (how late it sent against its
schedule, not counted in the latency), and CPU time per checked delivery of the generator (drawing, Socket.IO,
decoding and checking) against the service's instances'. "Maybe" when the generator spent more CPU per delivery than
the instances, or its event-loop delay p99 was at least half the latency p99: then the figure says as much about the
generator as about the service. Checking costs a receiver ${compare.receiverCost.usPerSample} µs of CPU per delivery, where Socket.IO's own
parsing of the same frame costs ${compare.receiverCost.parseUsPerFrame ?? "–"} µs (${num(compare.receiverCost.frames)} synthetic frames in one process, no network); "checking:
wall time in handlers" is the time spent in the frame handlers during the step (on a busy machine it includes time
the process waited for a core). The rest of a receiver's cost is its socket: reading it, WebSocket framing, timers.

${generatorTable(compare)}

## How a delivery is checked
Every sample of every line has a known content (its x is its index in the line, its y a pattern of the line and
index, its colour and width the sender's), and every receiver decodes every frame it gets into samples and checks
each: a sample that arrives twice is a duplicate, one whose content is not what was drawn is corrupt, one never
arriving at a receiver that should get it is lost. Latency runs from the moment the generator handed the sample to
the client (the sender's log, gathered after the step) to its arrival. The baseline's sender sends, per sample, the
very frame ours broadcasts for it, and its receivers decode and check it the same way. Session drawers hold their
own board and do not check; everyone else does. After drawing, each load process waits until nothing has arrived
for ${settings.drain.quietMs / 1000} s (at most ${settings.drain.maxMs / 1000} s): a late delivery counts, with its latency.

## Results
${settings.clients.map((clients) => ladderTables(compare, clients)).join("\n")}
### Reference step runs
${settings.referenceClients} clients, ${settings.referenceRate} samples/s, run ${settings.repeats} times in a row per system.

${referenceTable(compare)}

### Frames per client, drawers on several instances
${settings.frames.clients} clients on one board over ${settings.frames.instances} instances, ${settings.frames.drawers} drawers at ${settings.frames.rate} samples/s in all, placed on 1, 3 or 6 of the
instances (everyone else spread over all of them).

${framesTable(compare)}

## Redis work per stored piece
\`INFO commandstats\` over the ${settings.referenceClients}-client step at ${settings.referenceRate} samples/s (its first run; the benchmark's own INFO left out),
per piece stored (ours: acknowledged) or message relayed (baseline). Commands a Lua script runs count one each.

${redisTable(compare)}

## Cursors
The same drawing twice in a row, without then with every client moving its cursor at ${settings.cursorHz} Hz (session load).

${cursorTable(compare)}

## Memory (RSS per instance)
Each reading is the lowest of readings every 250 ms (5 s idle, 10 s connected), after a first round of connections
has grown the heap to its working size.

${memoryTable(compare)}

## Scale-out: Redis traffic per instance, sharded adapter against the plain adapter
${scaleSection(scale)}
## Late joiner catch-up
${catchUpSection(catchUp)}
`;
}
