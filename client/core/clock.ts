/**
 * Time as the session sees it: injected, so that tests drive retries, backoff, gap grace periods and rotation
 * with fake timers and a fixed random source, in milliseconds and without a network.
 */

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(action: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** A number in [0, 1): the jitter of retries. */
  random(): number;
}

/** The platform's clock and timers: the browser's or Node's. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (action, ms) => globalThis.setTimeout(action, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  random: () => Math.random(),
};
