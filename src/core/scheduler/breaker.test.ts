import { describe, expect, it } from 'vitest';
import { type BreakerState, CLOSED_BREAKER, isAside, nextBreaker } from './breaker.js';

const OPTS = { threshold: 3, windowMs: 60_000, baseAsideMs: 10_000, maxAsideMs: 40_000 };
type Event = readonly ['success' | 'worker_failure', number];
const F = (t: number): Event => ['worker_failure', t];
const S = (t: number): Event => ['success', t];

const replay = (events: readonly Event[], opts = OPTS, from: BreakerState = CLOSED_BREAKER) =>
  events.reduce((state, [outcome, t]) => nextBreaker(state, outcome, t, opts), from);

describe('nextBreaker', () => {
  it.each([
    ['two failures in a row', [F(0), F(1000)], { consecutiveFailures: 2, asideUntil: null, trips: 0 }],
    [
      'three failures in a row',
      [F(0), F(1000), F(2000)],
      { consecutiveFailures: 3, asideUntil: 12_000, trips: 1 },
    ],
    [
      'a success between them',
      [F(0), F(1000), S(1500), F(2000)],
      { consecutiveFailures: 1, asideUntil: null, trips: 0 },
    ],
    [
      'failures further apart than the window',
      [F(0), F(60_001), F(120_002)],
      { consecutiveFailures: 1, asideUntil: null, trips: 0 },
    ],
    [
      'failures exactly a window apart',
      [F(0), F(60_000), F(120_000)],
      { consecutiveFailures: 3, asideUntil: 130_000, trips: 1 },
    ],
    // Half-open: once the time aside is over, a single failure sets it aside again, for twice as long.
    [
      'one failure after the first time aside',
      [F(0), F(0), F(0), F(10_000)],
      { asideUntil: 30_000, trips: 2 },
    ],
    ['a third trip', [F(0), F(0), F(0), F(10_000), F(30_000)], { asideUntil: 70_000, trips: 3 }],
    [
      'a fourth trip, capped',
      [F(0), F(0), F(0), F(10_000), F(30_000), F(70_000)],
      { asideUntil: 110_000, trips: 4 },
    ],
    // A task sent before the trip fails late: counted, but the time aside is not extended.
    [
      'a failure while aside',
      [F(0), F(0), F(0), F(5000)],
      { consecutiveFailures: 4, asideUntil: 10_000, trips: 1 },
    ],
    ['a success while aside', [F(0), F(0), F(0), S(5000)], CLOSED_BREAKER],
    [
      'a failure after a success that ended the trip',
      [F(0), F(0), F(0), S(11_000), F(12_000)],
      { consecutiveFailures: 1, asideUntil: null, trips: 0 },
    ],
    // The window counts from the end of the time aside: quiet for a whole window after it, the worker starts afresh.
    [
      'a failure a window after the time aside ended',
      [F(0), F(0), F(0), F(70_001)],
      { consecutiveFailures: 1, asideUntil: null, trips: 0 },
    ],
    [
      'a failure just within the window after it',
      [F(0), F(0), F(0), F(70_000)],
      { asideUntil: 90_000, trips: 2 },
    ],
  ] as const)('%s', (_name, events, want) => {
    expect(replay(events)).toMatchObject(want);
  });

  it('trips on the first failure with a threshold of 1, and treats 0 as 1', () => {
    for (const threshold of [1, 0]) {
      expect(replay([F(5)], { ...OPTS, threshold })).toMatchObject({ asideUntil: 10_005, trips: 1 });
    }
  });

  it('stays finite after a very long history of trips', () => {
    const worn: BreakerState = {
      consecutiveFailures: 5000,
      asideUntil: 1000,
      trips: 5000,
      lastFailureAt: 900,
    };
    expect(nextBreaker(worn, 'worker_failure', 2000, OPTS).asideUntil).toBe(2000 + OPTS.maxAsideMs);
    const zero = nextBreaker(worn, 'worker_failure', 2000, { ...OPTS, baseAsideMs: 0 });
    expect(zero.asideUntil).toBe(2000);
    expect(isAside(zero, 2000)).toBe(false);
  });

  it('does not change the state it is given', () => {
    const before = Object.freeze(replay([F(0), F(0)]));
    const copy = { ...before };
    nextBreaker(before, 'worker_failure', 1, OPTS);
    nextBreaker(before, 'success', 1, OPTS);
    expect(before).toEqual(copy);
  });
});

describe('isAside', () => {
  const tripped = replay([F(0), F(0), F(0)]);
  it.each([
    [CLOSED_BREAKER, 0, false],
    [tripped, 0, true],
    [tripped, 9_999, true],
    [tripped, 10_000, false],
    [tripped, 50_000, false],
  ] as const)('%o at %d → %s', (state, now, want) => {
    expect(isAside(state, now)).toBe(want);
  });
});
