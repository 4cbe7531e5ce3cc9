/**
 * Simulated time for the sandbox.
 *
 * Nothing in the sandbox uses timers: every state that changes over time (a snapshot going
 * `creating` → `available`, an instance going down at 03:00) is stored as a timeline of
 * timestamped values and read at the clock's current time. Advancing the clock by a year is
 * therefore free, and a state is always exactly what it would be at that instant.
 */

/** Anything that can tell the time. `core/` functions take `now` from here. */
export interface Clock {
  now(): Date;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  private ms: number;

  constructor(start: Date | string | number = "2025-01-01T00:00:00Z") {
    this.ms = new Date(start).getTime();
    if (Number.isNaN(this.ms)) throw new Error(`FakeClock: invalid start time ${String(start)}`);
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Current time in epoch milliseconds (cheaper than `now()` in hot loops). */
  nowMs(): number {
    return this.ms;
  }

  advance(ms: number): Date {
    if (!(ms >= 0)) throw new Error(`FakeClock.advance: ms must be >= 0, got ${ms}`);
    this.ms += ms;
    return this.now();
  }

  /** Move to an absolute time. Time never goes backwards: the states stored so far would lie. */
  set(date: Date | string | number): Date {
    const ms = new Date(date).getTime();
    if (Number.isNaN(ms)) throw new Error(`FakeClock.set: invalid time ${String(date)}`);
    if (ms < this.ms) throw new Error(`FakeClock.set: cannot go back from ${this.now().toISOString()} to ${new Date(ms).toISOString()}`);
    this.ms = ms;
    return this.now();
  }
}

/** The sandbox's view of a clock: a FakeClock, or an external clock that the sandbox cannot move. */
export interface SandboxClock extends Clock {
  nowMs(): number;
  advance(ms: number): Date;
  set(date: Date | string | number): Date;
}

export function toSandboxClock(clock: FakeClock | Clock | undefined): SandboxClock {
  if (clock === undefined) return new FakeClock();
  if (clock instanceof FakeClock) return clock;
  const external = clock;
  return {
    now: () => external.now(),
    nowMs: () => external.now().getTime(),
    advance: () => {
      throw new Error("sandbox clock is external: advance it where it was created");
    },
    set: () => {
      throw new Error("sandbox clock is external: set it where it was created");
    },
  };
}

/**
 * A value that changes at known instants: `[{ at, value }]` sorted by `at`.
 * `valueAt(t)` is the last value whose `at` is <= t (the first value before that).
 * States that AWS advances on its own (creating → available) are written as a timeline when
 * the operation starts, so they are computed lazily, whenever they are observed.
 */
export class Timeline<T> {
  private points: Array<{ at: number; value: T }>;

  constructor(initial: T, at = Number.NEGATIVE_INFINITY) {
    this.points = [{ at, value: initial }];
  }

  valueAt(ms: number): T {
    const pts = this.points;
    // Most timelines have 1–3 points; a linear scan from the end is the fast path.
    for (let i = pts.length - 1; i > 0; i--) {
      const p = pts[i]!;
      if (p.at <= ms) return p.value;
    }
    return pts[0]!.value;
  }

  /** When the value last changed at or before `ms`. */
  changedAt(ms: number): number {
    const pts = this.points;
    for (let i = pts.length - 1; i > 0; i--) {
      const p = pts[i]!;
      if (p.at <= ms) return p.at;
    }
    return pts[0]!.at;
  }

  /** The time of the first future change whose value satisfies `pred`, if any. */
  nextAt(ms: number, pred: (value: T) => boolean): number | undefined {
    for (const p of this.points) if (p.at > ms && pred(p.value)) return p.at;
    return undefined;
  }

  /** Schedule `value` from `at` on; later points already scheduled after `at` are dropped. */
  set(value: T, at: number): this {
    this.points = this.points.filter((p) => p.at < at);
    if (this.points.length === 0) this.points.push({ at: Number.NEGATIVE_INFINITY, value });
    else this.points.push({ at, value });
    return this;
  }

  /** Add a point after the existing ones (keeps what is scheduled before it). */
  andThen(value: T, at: number): this {
    const last = this.points[this.points.length - 1]!;
    if (at < last.at) throw new Error("Timeline.andThen: points must be added in time order");
    this.points.push({ at, value });
    return this;
  }
}
