/**
 * Delivery accounting: every receiver checks every sample it gets by identity (lost, duplicated, corrupt), and
 * latency is taken from the sample's actual send time, which the sender logs and hands over once the step is over
 * (a send-time table keyed by identity: no protocol field is needed to carry it).
 *
 * A receiver keeps one arrival time per sample it may receive (Float32, ms after the step's origin): that table
 * is the duplicate detector as well. Nothing here speaks a wire protocol; ./protocol.ts decodes frames into the
 * samples this module checks.
 */
import { indexOfX, isIntact } from "./drawing";
import { createHistogram, encodeHistogram, mergeHistograms, summarize, type LatencySummary } from "./latency";

/** What became of a sample a sender drew. */
export const SampleState = {
  /** Not drawn. */
  none: 0,
  /** Handed to the client, no answer yet. */
  sent: 1,
  /** Stored (acknowledged by the service; for the baseline, sent: it relays without answering). */
  stored: 2,
  /** Refused by the service. */
  refused: 3,
  /** No answer within the client's timeout. */
  unanswered: 4,
} as const;
export type SampleState = (typeof SampleState)[keyof typeof SampleState];

/** The shape of one step: which board each sender draws on and how many samples it can draw. */
export interface StepLayout {
  /** Board of each sender, by sender number. */
  senderBoards: readonly string[];
  linesPerSender: number;
  samplesPerLine: number;
}

/** One sender's samples, by slot (line × samplesPerLine + index). */
export interface SenderLog {
  /** When each sample was handed to the client, ms on the shared clock (./latency.ts `clock`); NaN if never. */
  sentAt: Float64Array;
  state: Uint8Array;
}

export function createSenderLog(layout: StepLayout): SenderLog {
  const size = layout.linesPerSender * layout.samplesPerLine;
  return { sentAt: new Float64Array(size).fill(Number.NaN), state: new Uint8Array(size) };
}

export interface Settlement {
  /** Stored samples times the receivers that should get each (every checking client of the board but its sender). */
  expected: number;
  /** Of those, how many arrived. */
  delivered: number;
  lost: number;
  /** Samples that arrived again at a receiver that already had them. */
  duplicates: number;
  /** Content that is not what was drawn: a wrong field, an unknown sample, a line on another board, undecodable. */
  corrupt: number;
  /** Samples of another step (late past its end, or early). */
  stray: number;
  /** Samples that arrived though the service never acknowledged them (refused, or no answer in time). */
  unstoredDelivered: number;
  /** Receivers that missed at least one sample. */
  receiversWithLoss: number;
  /** Latency from the actual send to each delivery, microseconds, HdrHistogram encoded (./latency.ts). */
  histogram: string;
}

/** Receiving side: the arrivals of the checking clients of one load process. */
export class DeliveryLedger {
  private readonly arrivals: Float32Array[];
  /** Per receiver, per sender: its position among the senders of the receiver's board, or -1. */
  private readonly slots: Int32Array[];
  private readonly perSender: number;
  duplicates = 0;
  corrupt = 0;
  stray = 0;
  /** Samples taken in (first arrivals), for the drain's "still arriving" test. */
  arrived = 0;

  constructor(
    private readonly layout: StepLayout,
    /** Each checking client: its board, and its own sender number when it draws (its own echo is not counted). */
    private readonly receivers: readonly { board: string; self?: number }[],
    /** Arrival times are kept as ms after this (Float32 keeps 0.01 ms over a long step). */
    private readonly origin: number,
  ) {
    this.perSender = layout.linesPerSender * layout.samplesPerLine;
    this.slots = receivers.map(({ board }) => {
      const slots = new Int32Array(layout.senderBoards.length).fill(-1);
      let next = 0;
      layout.senderBoards.forEach((senderBoard, sender) => {
        if (senderBoard === board) slots[sender] = next++;
      });
      return slots;
    });
    this.arrivals = this.slots.map((slots) => {
      const senders = slots.reduce((count, slot) => count + (slot >= 0 ? 1 : 0), 0);
      return new Float32Array(senders * this.perSender).fill(Number.NaN);
    });
  }

  /** A sample as receiver `receiver` decoded it. */
  arrive(
    receiver: number,
    sender: number,
    line: number,
    x: number,
    y: number,
    color: string,
    width: number,
    at: number,
  ): void {
    if (sender === this.receivers[receiver]?.self) return;
    const slot = this.slots[receiver]?.[sender] ?? -1;
    const index = indexOfX(x);
    if (
      slot < 0 ||
      line < 0 ||
      line >= this.layout.linesPerSender ||
      index < 0 ||
      index >= this.layout.samplesPerLine ||
      !isIntact(sender, line, index, x, y, color, width)
    ) {
      this.corrupt += 1;
      return;
    }
    const table = this.arrivals[receiver] as Float32Array;
    const position = slot * this.perSender + line * this.layout.samplesPerLine + index;
    if (!Number.isNaN(table[position])) {
      this.duplicates += 1;
      return;
    }
    table[position] = at - this.origin;
    this.arrived += 1;
  }

  /** Content that could not be decoded as a sample at all. */
  undecodable(): void {
    this.corrupt += 1;
  }

  /** A sample of another step. */
  strayed(): void {
    this.stray += 1;
  }

  /** Compares what arrived with what the senders logged. `logs[sender]` for every sender of the layout. */
  settle(logs: readonly SenderLog[]): Settlement {
    const histogram = createHistogram();
    let expected = 0;
    let delivered = 0;
    let unstoredDelivered = 0;
    let receiversWithLoss = 0;
    this.receivers.forEach(({ self }, receiver) => {
      const slots = this.slots[receiver] as Int32Array;
      const table = this.arrivals[receiver] as Float32Array;
      let missed = false;
      slots.forEach((slot, sender) => {
        if (slot < 0 || sender === self) return;
        const log = logs[sender];
        if (!log) throw new Error(`no send log for sender ${sender}`);
        for (let sample = 0; sample < this.perSender; sample += 1) {
          const arrivedAt = table[slot * this.perSender + sample] as number;
          const arrived = !Number.isNaN(arrivedAt);
          const state = log.state[sample];
          if (state !== SampleState.stored) {
            if (!arrived) continue;
            // Arrived but never drawn: made up, not merely unacknowledged.
            if (state === SampleState.none) this.corrupt += 1;
            else unstoredDelivered += 1;
            continue;
          }
          expected += 1;
          if (!arrived) {
            missed = true;
            continue;
          }
          delivered += 1;
          const latencyUs = (this.origin + arrivedAt - (log.sentAt[sample] as number)) * 1000;
          histogram.recordValue(Math.max(1, Math.round(latencyUs)));
        }
      });
      if (missed) receiversWithLoss += 1;
    });
    return {
      expected,
      delivered,
      lost: expected - delivered,
      duplicates: this.duplicates,
      corrupt: this.corrupt,
      stray: this.stray,
      unstoredDelivered,
      receiversWithLoss,
      histogram: encodeHistogram(histogram),
    };
  }
}

/** The settlements of several load processes as one, with the latency percentiles. */
export function mergeSettlements(
  parts: readonly Settlement[],
): Omit<Settlement, "histogram"> & { latency: LatencySummary } {
  const sum = (pick: (part: Settlement) => number) => parts.reduce((total, part) => total + pick(part), 0);
  return {
    expected: sum((part) => part.expected),
    delivered: sum((part) => part.delivered),
    lost: sum((part) => part.lost),
    duplicates: sum((part) => part.duplicates),
    corrupt: sum((part) => part.corrupt),
    stray: sum((part) => part.stray),
    unstoredDelivered: sum((part) => part.unstoredDelivered),
    receiversWithLoss: sum((part) => part.receiversWithLoss),
    latency: summarize(mergeHistograms(parts.map((part) => part.histogram))),
  };
}
