import { subscriberBytes } from "../../bench/scale/relay";

describe("subscriberBytes", () => {
  it("counts what Redis sent on connections that sent next to nothing, between two readings", () => {
    const before = [
      { fromRedis: 1_000, toRedis: 5_000 }, // commands: replies to what it sends
      { fromRedis: 200, toRedis: 80 }, // the subscriber: only its SSUBSCRIBE so far
    ];
    const after = [
      { fromRedis: 9_000, toRedis: 45_000 },
      { fromRedis: 50_200, toRedis: 80 },
      { fromRedis: 0, toRedis: 0 }, // opened in between, idle
    ];
    expect(subscriberBytes(before, after)).toBe(50_000);
  });

  it("does not take a command connection for a subscriber, however much it receives", () => {
    expect(subscriberBytes([], [{ fromRedis: 100_000, toRedis: 2_000 }])).toBe(0);
  });
});
