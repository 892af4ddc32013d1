import { TokenBucket } from "../../service/token-bucket";

test("allows a burst, then refills at the configured rate, never above the burst", () => {
  let now = 0;
  const bucket = new TokenBucket(10, 3, () => now);
  expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  now += 100; // one token at 10 per second
  expect([bucket.take(), bucket.take()]).toEqual([true, false]);
  now += 60_000;
  expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
});
