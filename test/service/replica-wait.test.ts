import { ReplicaWait } from "../../service/replica-wait";

/** A fake WAIT: each call resolves when the test says so, with how many replicas answered. */
function fakeWait() {
  const calls: { replicas: number; resolve: (acknowledged: number) => void }[] = [];
  const wait = (replicas: number) => new Promise<number>((resolve) => calls.push({ replicas, resolve }));
  return { calls, wait };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("writers that finish while a WAIT is out share the next one (group commit)", async () => {
  const { calls, wait } = fakeWait();
  const replicas = new ReplicaWait({ wait, replicas: 1, timeoutMs: 100 });
  const first = replicas.replicated();
  const second = replicas.replicated();
  const third = replicas.replicated();
  expect(calls).toHaveLength(1);
  expect(second).toBe(third);
  calls[0]?.resolve(1);
  await expect(first).resolves.toBe(1);
  await tick();
  // The writes of the second and third callers may postdate the first WAIT: one more covers both.
  expect(calls).toHaveLength(2);
  calls[1]?.resolve(1);
  await expect(second).resolves.toBe(1);
  expect(replicas.shortfalls).toBe(0);
});

test("a replica slower than the timeout does not stop acknowledgements; the shortfall is counted", async () => {
  const { calls, wait } = fakeWait();
  const replicas = new ReplicaWait({ wait, replicas: 1, timeoutMs: 100 });
  const pending = replicas.replicated();
  calls[0]?.resolve(0);
  await expect(pending).resolves.toBe(0);
  expect(replicas.shortfalls).toBe(1);
  // The next write starts a fresh WAIT.
  void replicas.replicated();
  expect(calls).toHaveLength(2);
});
