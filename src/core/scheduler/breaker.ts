/**
 * The circuit breaker over one worker's task outcomes: a worker that keeps failing for worker-side
 * reasons (its disk, its GPU, its FFmpeg) is set aside for a while instead of burning the attempts
 * of every task the scheduler would otherwise keep sending it. Pure: the caller passes the time.
 *
 * closed ──threshold failures in a row──▶ open (aside) ──time passes──▶ half-open
 * half-open ──one failure──▶ open again, for twice as long (up to a maximum)
 * any state ──one success──▶ closed, history forgotten
 */

export interface BreakerState {
  /** Worker-side failures since the last success (still counted while aside). */
  consecutiveFailures: number;
  /** Until when the worker is set aside (ms epoch), or null. */
  asideUntil: number | null;
  /** Times it was set aside in this streak; each doubles the time aside. */
  trips: number;
  /** When the last failure was reported (ms epoch), to let an old streak expire. */
  lastFailureAt: number | null;
}

export interface BreakerOptions {
  /** Failures in a row that set the worker aside, e.g. 3. */
  threshold: number;
  /**
   * A failure more than this long after the previous one (or after the end of the last time
   * aside) starts a new streak: a worker that fails once a day is not broken.
   */
  windowMs: number;
  baseAsideMs: number;
  maxAsideMs: number;
}

export const CLOSED_BREAKER: BreakerState = Object.freeze({
  consecutiveFailures: 0,
  asideUntil: null,
  trips: 0,
  lastFailureAt: null,
});

export function isAside(state: BreakerState, now: number): boolean {
  return state.asideUntil !== null && now < state.asideUntil;
}

export function nextBreaker(
  state: BreakerState,
  outcome: 'success' | 'worker_failure',
  now: number,
  opts: BreakerOptions,
): BreakerState {
  if (outcome === 'success') return CLOSED_BREAKER;
  // A failure reported while aside comes from a task sent before the trip: it is counted but
  // neither extends nor doubles the time aside, which was decided on the same evidence.
  if (isAside(state, now)) {
    return { ...state, consecutiveFailures: state.consecutiveFailures + 1, lastFailureAt: now };
  }
  const since = Math.max(
    state.lastFailureAt ?? Number.NEGATIVE_INFINITY,
    state.asideUntil ?? Number.NEGATIVE_INFINITY,
  );
  const fresh = !(now - since <= opts.windowMs);
  const consecutiveFailures = fresh ? 1 : state.consecutiveFailures + 1;
  const trips = fresh ? 0 : state.trips;
  if (consecutiveFailures < Math.max(1, opts.threshold)) {
    return { consecutiveFailures, asideUntil: null, trips, lastFailureAt: now };
  }
  // The exponent is capped so that a long history gives maxAsideMs, never Infinity or NaN.
  const aside = Math.min(opts.maxAsideMs, opts.baseAsideMs * 2 ** Math.min(trips, 52));
  return { consecutiveFailures, asideUntil: now + aside, trips: trips + 1, lastFailureAt: now };
}
