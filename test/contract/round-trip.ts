/**
 * The protocol round trip the contract test runs across two instances of a deployment: both clients join one board,
 * a stroke sent on the first arrives on the second, and the store has it. The protocol is all in this one function,
 * so that a change of protocol changes only this.
 */
import { randomUUID } from "node:crypto";
import { readBoard } from "../../local/read-board";
import { connectClient, eventually, makeStroke, type TestClient } from "../support/socket-client";

export async function protocolRoundTrip(first: string, second: string, options: { origin?: string } = {}): Promise<void> {
  const board = `contract-${randomUUID().slice(0, 8)}`;
  const clients: TestClient[] = [];
  try {
    for (const url of [first, second]) clients.push(await connectClient(url, options));
    const [sender, receiver] = clients as [TestClient, TestClient];
    expect(await sender.join({ board })).toMatchObject({ ok: true, seq: 0 });
    expect(await receiver.join({ board })).toMatchObject({ ok: true, seq: 0 });
    const stroke = makeStroke();
    expect(await sender.stroke(stroke)).toEqual({ ok: true, seq: 1 });
    await eventually("the stroke to reach the client on the other instance", () => receiver.strokes.length > 0);
    expect(receiver.strokes).toEqual([{ ...stroke, seq: 1 }]);
    expect(await readBoard(second, board)).toEqual([{ ...stroke, seq: 1 }]);
  } finally {
    for (const client of clients) client.close();
  }
}
