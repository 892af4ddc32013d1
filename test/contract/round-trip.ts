/**
 * The protocol round trip the contract test runs across two instances of a deployment: both clients join one board
 * (the writer with its edit key), a line added and appended to on the first arrives on the second, and the store has
 * it. The protocol is all in this one function, so that a change of protocol changes only this.
 */
import { readBoard } from "../../local/read-board";
import { encodeSamples } from "../../protocol/points";
import type { ElementTuple } from "../../protocol/events";
import { toRecord } from "../../protocol/events";
import { connectClient, editableBoard, eventually, makeLine, type TestClient } from "../support/socket-client";

export async function protocolRoundTrip(
  first: string,
  second: string,
  options: { origin?: string } = {},
): Promise<void> {
  const { board, edit } = editableBoard();
  const clients: TestClient[] = [];
  try {
    for (const url of [first, second]) clients.push(await connectClient(url, options));
    const [sender, receiver] = clients as [TestClient, TestClient];
    expect(await sender.join({ board, edit })).toMatchObject({
      ok: true,
      e: "0",
      s: 0,
      you: { id: sender.id, edit: true },
    });
    expect(await receiver.join({ board })).toMatchObject({ ok: true, e: "0", s: 0, you: { edit: false } });
    const line = makeLine({
      b: [1_000, 1_000, 4_000, 4_000],
      d: encodeSamples([
        [1_000, 1_000, 0],
        [5_000, 5_000, 0],
      ]),
    });
    const addAck = await sender.add(line);
    expect(addAck).toEqual({ ok: true, s: 1, e: expect.any(String) as string });
    const more = encodeSamples([[6_000, 3_000, 0]], [5_000, 5_000]);
    expect(await sender.append({ i: line.id, n: 1, d: more, b: [1_000, 1_000, 5_000, 4_000] })).toEqual({
      ok: true,
      s: 2,
      e: addAck.ok ? addAck.e : "",
    });
    await eventually("the line to reach the client on the other instance", () => receiver.ops.length >= 2);
    // Stored at seq 1 on page 1, following its page, version 0; its author derived from the sender's key.
    const added: ElementTuple = [
      1,
      1,
      0,
      0,
      line.id,
      sender.id,
      "f",
      1,
      1_000,
      1_000,
      4_000,
      4_000,
      line.c,
      4,
      "",
      0,
      line.d,
      1,
    ];
    expect(receiver.ops).toEqual([
      { t: "a", s: 1, r: added },
      { t: "p", s: 2, i: line.id, n: 1, v: 2, d: more, b: [1_000, 1_000, 5_000, 4_000] },
    ]);
    // The view-only client cannot write.
    expect(await receiver.add(makeLine())).toMatchObject({ ok: false, code: "forbidden" });
    const stored = await readBoard(second, board);
    expect(stored.records).toEqual([
      { ...toRecord(added), x: 1_000, y: 1_000, w: 5_000, h: 4_000, v: 2, n: 1, d: line.d + more, l: 2 },
    ]);
  } finally {
    for (const client of clients) client.close();
  }
}
