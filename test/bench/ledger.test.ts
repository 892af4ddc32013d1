import { samplePoint, styleOf } from "../../bench/lib/drawing";
import {
  createSenderLog,
  DeliveryLedger,
  mergeSettlements,
  SampleState,
  type StepLayout,
} from "../../bench/lib/ledger";

const ORIGIN = 1_000_000;
const layout: StepLayout = { senderBoards: ["a", "a", "b"], linesPerSender: 2, samplesPerLine: 3 };

/** Sender logs with every sample of every line stored, sent at ORIGIN + 10 ms. */
function storedLogs() {
  return layout.senderBoards.map(() => {
    const log = createSenderLog(layout);
    log.sentAt.fill(ORIGIN + 10);
    log.state.fill(SampleState.stored);
    return log;
  });
}

/** Receiver `receiver` gets sample (sender, line, index) intact at `at`. */
function deliver(ledger: DeliveryLedger, receiver: number, sender: number, line: number, index: number, at: number) {
  const [x, y] = samplePoint(sender, line, index);
  const { color, width } = styleOf(sender);
  ledger.arrive(receiver, sender, line, x, y, color, width, at);
}

/** Every sample of the senders on `board` to `receiver`, but those `skip` names. */
function deliverAll(ledger: DeliveryLedger, receiver: number, board: string, at: number, skip = new Set<string>()) {
  layout.senderBoards.forEach((senderBoard, sender) => {
    if (senderBoard !== board) return;
    for (let line = 0; line < layout.linesPerSender; line += 1)
      for (let index = 0; index < layout.samplesPerLine; index += 1)
        if (!skip.has(`${receiver}:${sender}:${line}:${index}`)) deliver(ledger, receiver, sender, line, index, at);
  });
}

describe("DeliveryLedger", () => {
  // Receivers: 0 watches board a, 1 is sender 1 on board a (its own lines are not counted), 2 watches board b.
  const receivers = [{ board: "a" }, { board: "a", self: 1 }, { board: "b" }];

  it("expects every stored sample at every other receiver of its board, and times it from its send", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    receivers.forEach(({ board }, receiver) => deliverAll(ledger, receiver, board, ORIGIN + 35));
    const settlement = ledger.settle(storedLogs());
    // Board a: senders 0 and 1, 6 samples each; receiver 0 gets 12, receiver 1 gets sender 0's 6. Board b: 6.
    expect(settlement).toMatchObject({ expected: 24, delivered: 24, lost: 0, duplicates: 0, corrupt: 0 });
    const { latency } = mergeSettlements([settlement]);
    expect(latency.count).toBe(24);
    expect(latency.p50).toBe(25);
    expect(latency.max).toBe(25);
  });

  it("counts a sample missing at one receiver as lost there", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    receivers.forEach(({ board }, receiver) => deliverAll(ledger, receiver, board, ORIGIN + 20, new Set(["0:1:1:2"])));
    expect(ledger.settle(storedLogs())).toMatchObject({ expected: 24, delivered: 23, lost: 1, receiversWithLoss: 1 });
  });

  it("counts a second arrival as a duplicate, not as a delivery", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    receivers.forEach(({ board }, receiver) => deliverAll(ledger, receiver, board, ORIGIN + 20));
    deliver(ledger, 0, 0, 1, 1, ORIGIN + 50);
    const settlement = ledger.settle(storedLogs());
    expect(settlement).toMatchObject({ delivered: 24, lost: 0, duplicates: 1 });
    // The first arrival's latency is the one counted.
    expect(mergeSettlements([settlement]).latency.max).toBe(10);
  });

  it("counts content that is not what was drawn as corrupt, and does not count it as delivered", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    const [x, y] = samplePoint(0, 0, 1);
    const { color, width } = styleOf(0);
    ledger.arrive(0, 0, 0, x, y + 1, color, width, ORIGIN); // y changed
    ledger.arrive(0, 0, 0, x, y, "#000000", width, ORIGIN); // colour changed
    ledger.arrive(0, 0, 0, x, y, color, width + 1, ORIGIN); // width changed
    ledger.arrive(0, 0, 0, x + 1, y, color, width, ORIGIN); // no sample is drawn at this x
    ledger.arrive(0, 0, 5, x, y, color, width, ORIGIN); // no such line
    ledger.arrive(0, 2, 0, ...samplePoint(2, 0, 1), styleOf(2).color, styleOf(2).width, ORIGIN); // board b's line on a
    ledger.undecodable();
    const settlement = ledger.settle(storedLogs());
    expect(settlement.corrupt).toBe(7);
    expect(settlement.delivered).toBe(0);
    expect(settlement.lost).toBe(settlement.expected);
  });

  it("ignores a receiver's own lines", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    deliver(ledger, 1, 1, 0, 0, ORIGIN + 5);
    expect(ledger.arrived).toBe(0);
    expect(ledger.settle(storedLogs()).corrupt).toBe(0);
  });

  it("does not expect samples the service refused; one that arrives anyway is counted apart, one never drawn is corrupt", () => {
    const logs = storedLogs();
    const sender0 = logs[0] as ReturnType<typeof createSenderLog>;
    sender0.state[0] = SampleState.refused;
    sender0.state[1] = SampleState.unanswered;
    sender0.state[2] = SampleState.none;
    const ledger = new DeliveryLedger(layout, [{ board: "a" }], ORIGIN);
    deliverAll(ledger, 0, "a", ORIGIN + 20);
    const settlement = ledger.settle(logs);
    expect(settlement).toMatchObject({ expected: 9, delivered: 9, lost: 0, unstoredDelivered: 2, corrupt: 1 });
  });

  it("notes samples of another step apart", () => {
    const ledger = new DeliveryLedger(layout, receivers, ORIGIN);
    ledger.strayed();
    expect(ledger.settle(storedLogs()).stray).toBe(1);
  });

  it("merges the settlements of several processes", () => {
    const parts = [0, 2].map((receiver) => {
      const ledger = new DeliveryLedger(layout, [receivers[receiver] as { board: string }], ORIGIN);
      deliverAll(ledger, 0, (receivers[receiver] as { board: string }).board, ORIGIN + 10 + receiver * 10);
      return ledger.settle(storedLogs());
    });
    const merged = mergeSettlements(parts);
    expect(merged).toMatchObject({ expected: 18, delivered: 18, lost: 0 });
    expect(merged.latency.count).toBe(18);
    // Board a's 12 deliveries at once, board b's 6 after 20 ms.
    expect(merged.latency.p50).toBe(0);
    expect(merged.latency.max).toBe(20);
  });
});
