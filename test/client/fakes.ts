/**
 * A transport and a clock the tests control: the session's requests wait until a test answers them, the server's
 * events are pushed by hand, and time moves only when a test advances it. No network, no real timers.
 */
import type { Clock, TimerHandle } from "../../client/core/clock";
import type { AnswerOf, RequestName, RequestOf, Transport, TransportEvents } from "../../client/core/transport";
import type { ElementKind, ElementTuple } from "../../protocol/events";

export interface SentRequest<K extends RequestName = RequestName> {
  name: K;
  payload: RequestOf<K>;
  answer(response: AnswerOf<K> | undefined): void;
}

export class FakeTransport implements Transport {
  private events: TransportEvents | undefined;
  /** Requests not answered yet, in the order sent. */
  readonly pending: SentRequest[] = [];
  /** Every request ever sent, in order. */
  readonly sent: SentRequest[] = [];
  readonly cursors: { x: number; y: number }[] = [];
  reconnects = 0;
  closed = false;
  connected = false;

  start(events: TransportEvents): void {
    this.events = events;
  }

  request<K extends RequestName>(
    name: K,
    payload: RequestOf<K>,
    _timeoutMs: number,
    answer: (response: AnswerOf<K> | undefined) => void,
  ): void {
    let answered = false;
    const request: SentRequest<K> = {
      name,
      payload: structuredClone(payload),
      answer: (response) => {
        if (answered) throw new Error(`${name} answered twice`);
        answered = true;
        this.pending.splice(this.pending.indexOf(request), 1);
        answer(response);
      },
    };
    this.pending.push(request);
    this.sent.push(request);
  }

  cursor(position: { x: number; y: number }): void {
    this.cursors.push(position);
  }

  reconnect(): void {
    this.reconnects += 1;
    this.drop();
  }

  close(): void {
    this.closed = true;
    this.connected = false;
  }

  /** The connection opens. */
  connect(): void {
    this.connected = true;
    this.on().connected();
  }

  /** The connection drops: its requests will never be answered (the session must not wait for them). */
  drop(): void {
    this.connected = false;
    this.pending.splice(0);
    this.on().disconnected();
  }

  /** The server pushes an event. */
  on(): TransportEvents {
    if (!this.events) throw new Error("the session has not started the transport");
    return this.events;
  }

  /** The oldest unanswered request named `name` (failing the test when there is none). */
  next<K extends RequestName>(name: K): SentRequest<K> {
    const found = this.pending.find((request) => request.name === name);
    if (!found) throw new Error(`no ${name} waiting; waiting: ${this.pending.map((r) => r.name).join(", ") || "none"}`);
    return found as unknown as SentRequest<K>;
  }

  /** Unanswered requests named `name`. */
  waiting<K extends RequestName>(name: K): SentRequest<K>[] {
    return this.pending.filter((request) => request.name === name) as unknown as SentRequest<K>[];
  }

  /** Every request named `name` sent so far. */
  all<K extends RequestName>(name: K): SentRequest<K>[] {
    return this.sent.filter((request) => request.name === name) as unknown as SentRequest<K>[];
  }
}

export class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; order: number; action: () => void }[] = [];
  private order = 0;
  /** What `random()` answers: the jitter of every retry. */
  randomValue = 0.5;

  now(): number {
    return this.time;
  }

  setTimeout(action: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), order: (this.order += 1), action };
    this.timers.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer !== handle);
  }

  random(): number {
    return this.randomValue;
  }

  /** Timers waiting. */
  get waiting(): number {
    return this.timers.length;
  }

  /** Moves time forward, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.time = due.at;
      due.action();
    }
    this.time = until;
  }
}

/** An element tuple as the store would send it, with defaults for what a test does not care about. */
export function tuple(fields: {
  s: number;
  i: string;
  g?: number;
  o?: 0 | 1;
  v?: number;
  u?: string;
  t?: ElementKind;
  z?: number;
  box?: [number, number, number, number];
  n?: number;
  d?: string;
}): ElementTuple {
  const {
    s,
    i,
    g = 1,
    o = 0,
    v = 0,
    u = "someone-else",
    t = "r",
    z = s,
    box = [0, 0, 100, 100],
    n = 0,
    d = "",
  } = fields;
  return [s, g, o, v, i, u, t, z, ...box, "#000000", 2, "", n, d, s];
}

/** Lets promise callbacks run (the pending store's load). */
export const settle = () => new Promise((resolve) => setImmediate(resolve));
