/**
 * The protocol round trip the contract test runs across two instances of a deployment: both clients join one board,
 * a stroke sent on the first arrives on the second, and the store has it. The protocol is all in this one function,
 * so that a change of protocol changes only this.
 */
import { randomUUID } from "node:crypto";
import { readBoard } from "../../local/read-board";
import { toRecord, type StrokeTuple } from "../../protocol/events";
import { connectClient, eventually, makeStroke, type TestClient } from "../support/socket-client";

export async function protocolRoundTrip(
  first: string,
  second: string,
  options: { origin?: string } = {},
): Promise<void> {
  const board = `contract-${randomUUID().slice(0, 8)}`;
  const clients: TestClient[] = [];
  try {
    for (const url of [first, second]) clients.push(await connectClient(url, options));
    const [sender, receiver] = clients as [TestClient, TestClient];
    expect(await sender.join({ board })).toMatchObject({ ok: true, e: "0", s: 0 });
    expect(await receiver.join({ board })).toMatchObject({ ok: true, e: "0", s: 0 });
    const stroke = makeStroke();
    expect(await sender.stroke(stroke)).toEqual({ ok: true, s: 1 });
    await eventually("the stroke to reach the client on the other instance", () => receiver.ops.length > 0);
    const record = [1, 1, 0, stroke.id, sender.user.id, stroke.c, stroke.w, stroke.p];
    expect(receiver.ops).toEqual([{ t: "s", s: 1, r: record }]);
    expect((await readBoard(second, board)).records).toEqual([toRecord(record as StrokeTuple)]);
  } finally {
    for (const client of clients) client.close();
  }
}
