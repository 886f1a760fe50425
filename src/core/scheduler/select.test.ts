import { describe, expect, it } from 'vitest';
import { idleWorkers, selectWorkers, type TaskNeeds, type WorkerView } from './select.js';

const NOW = 1_700_000_000_000;
const OPTS = { now: NOW, onlineWithinSeconds: 30 };
const X264 = { name: 'libx264', codec: 'h264', hardware: null, fps: 100 };
const X265 = { name: 'libx265', codec: 'hevc', hardware: null, fps: 20 };
const NVENC = { name: 'h264_nvenc', codec: 'h264', hardware: 'nvenc', fps: 300 };

function worker(id: string, over: Partial<WorkerView> = {}): WorkerView {
  return {
    id,
    name: id,
    silentSeconds: 5,
    status: 'idle',
    draining: false,
    maxConcurrent: 2,
    active: 0,
    encoders: [X264],
    labels: [],
    load: 0.2,
    asideUntil: null,
    ...over,
  };
}

const H264: TaskNeeds = { codecs: ['h264', 'aac'] };

describe('selectWorkers: one worker, one filter at a time', () => {
  it.each<[string, TaskNeeds, Partial<WorkerView>, string | null]>([
    ['an idle worker', H264, {}, null],
    ['a busy worker with a free slot', H264, { status: 'busy', active: 1 }, null],
    ['heard from exactly 30 s ago', H264, { silentSeconds: 30 }, null],
    ['heard from 31 s ago', H264, { silentSeconds: 31 }, 'no worker is online'],
    ['an unknown silence', H264, { silentSeconds: Number.NaN }, 'no worker is online'],
    ['in error', H264, { status: 'error' }, 'the only capable worker (w1) is in error'],
    ['in maintenance', H264, { status: 'maintenance' }, 'the only capable worker (w1) is in maintenance'],
    ['draining', H264, { draining: true }, 'the only capable worker (w1) is draining'],
    ['full', H264, { active: 2 }, 'the only capable worker (w1) is busy'],
    ['over full', H264, { active: 3 }, 'the only capable worker (w1) is busy'],
    ['without slots', H264, { maxConcurrent: 0 }, 'the only capable worker (w1) is busy'],
    ['with a NaN capacity', H264, { maxConcurrent: Number.NaN }, 'the only capable worker (w1) is busy'],
    ['without the video encoder', { codecs: ['hevc'] }, {}, 'waiting for a worker with an hevc encoder'],
    ['asked by an FFmpeg encoder name', { codecs: ['libx265'] }, { encoders: [X265] }, null],
    [
      'advertising an FFmpeg encoder name as codec',
      H264,
      { encoders: [{ ...X264, codec: 'libx264' }] },
      null,
    ],
    ['for a stream copy', { codecs: ['copy', 'none'] }, { encoders: [] }, null],
    ['with no audio encoder listed', { codecs: ['opus'] }, { encoders: [X264] }, null],
    [
      'listing audio encoders, but not the one asked',
      { codecs: ['opus'] },
      { encoders: [X264, { name: 'aac', codec: 'aac', hardware: null, fps: 0 }] },
      'waiting for a worker with an opus encoder',
    ],
    [
      'listing mjpeg for jpg',
      { codecs: ['jpg'] },
      { encoders: [{ name: 'mjpeg', codec: 'mjpeg', hardware: null, fps: 9 }] },
      null,
    ],
    [
      'listing png only for a jpg',
      { codecs: ['jpg'] },
      { encoders: [{ name: 'png', codec: 'png', hardware: null, fps: 9 }] },
      'waiting for a worker with a jpg encoder',
    ],
    ['for a codec we do not know', { codecs: ['prores'] }, {}, 'waiting for a worker with a prores encoder'],
    [
      'software only, hardware required',
      { ...H264, hardware: 'required' },
      {},
      'waiting for a worker with hardware encoding for h264',
    ],
    ['with nvenc, hardware required', { ...H264, hardware: 'required' }, { encoders: [NVENC] }, null],
    ['software only, hardware preferred', { ...H264, hardware: 'preferred' }, {}, null],
    [
      'hardware required by a task that encodes no video',
      { codecs: ['aac'], hardware: 'required' },
      {},
      null,
    ],
    [
      'without the label asked',
      { ...H264, labels: ['gpu'] },
      { labels: ['site=paris'] },
      'waiting for a worker labelled gpu',
    ],
    ['with the label asked', { ...H264, labels: ['gpu'] }, { labels: ['gpu'] }, null],
    [
      'where the task failed before',
      { ...H264, avoid: ['w1'] },
      {},
      'the task already failed on the only capable worker (w1)',
    ],
    [
      'set aside',
      H264,
      { asideUntil: NOW + 40_000 },
      'the only capable worker (w1) is set aside after repeated failures (back in 40 s)',
    ],
    [
      'set aside for minutes',
      H264,
      { asideUntil: NOW + 300_000 },
      'the only capable worker (w1) is set aside after repeated failures (back in 5 min)',
    ],
    ['set aside until now', H264, { asideUntil: NOW }, null],
    ['set aside in the past', H264, { asideUntil: NOW - 1 }, null],
  ])('%s', (_name, needs, over, waiting) => {
    const got = selectWorkers(needs, [worker('w1', over)], OPTS);
    expect(got.waiting).toBe(waiting);
    expect(got.candidates.map((c) => c.id)).toEqual(waiting === null ? ['w1'] : []);
  });
});

describe('selectWorkers: the sentence when nobody can take the task', () => {
  it.each<[string, TaskNeeds, WorkerView[], string]>([
    ['no worker at all', H264, [], 'no worker is online'],
    [
      'none online, even though none could encode it',
      { codecs: ['av1'] },
      [worker('a', { silentSeconds: 99 })],
      'no worker is online',
    ],
    [
      'two requirements no single worker meets together',
      { codecs: ['hevc'], labels: ['gpu'] },
      [worker('a', { encoders: [X265] }), worker('b', { labels: ['gpu'] })],
      'waiting for a worker with an hevc encoder and labelled gpu',
    ],
    [
      'the capable worker is offline',
      { codecs: ['hevc'] },
      [worker('a'), worker('b', { name: 'old-box', encoders: [X265], silentSeconds: 3600 })],
      'the only capable worker (old-box) is offline',
    ],
    [
      'all capable workers are full; the incapable one is not counted',
      H264,
      [worker('a', { active: 2 }), worker('b', { active: 2 }), worker('c', { encoders: [X265] })],
      'all 2 capable workers are busy',
    ],
    [
      'all draining',
      H264,
      [worker('a', { draining: true }), worker('b', { draining: true }), worker('c', { draining: true })],
      'all 3 capable workers are draining',
    ],
    [
      'in error, named in order',
      H264,
      [worker('b', { status: 'error' }), worker('a', { status: 'error' })],
      'capable workers are in error: a, b',
    ],
    [
      'many in error',
      H264,
      ['e', 'd', 'c', 'b', 'a'].map((id) => worker(id, { status: 'error' })),
      'capable workers are in error: a, b, c and 2 more',
    ],
    [
      'set aside, back when the first one is',
      H264,
      [worker('a', { asideUntil: NOW + 30_000 }), worker('b', { asideUntil: NOW + 9_500 })],
      'capable workers are set aside after repeated failures (back in 10 s)',
    ],
    [
      'failed on every capable worker',
      { ...H264, avoid: ['a', 'b'] },
      [worker('a'), worker('b')],
      'the task already failed on every capable worker: a, b',
    ],
    [
      'mixed reasons',
      H264,
      [
        worker('a', { active: 2 }),
        worker('b', { draining: true }),
        worker('c', { status: 'error' }),
        worker('d', { silentSeconds: 90 }),
      ],
      'no capable worker is free: 1 busy, 1 draining, 1 in error (c), 1 offline (d)',
    ],
  ])('%s', (_name, needs, workers, waiting) => {
    expect(selectWorkers(needs, workers, OPTS)).toEqual({ candidates: [], waiting });
  });
});

describe('selectWorkers: the order of the candidates', () => {
  const order = (needs: TaskNeeds, workers: WorkerView[]) =>
    selectWorkers(needs, workers, OPTS).candidates.map((c) => c.id);

  it.each<[string, TaskNeeds, WorkerView[], string[]]>([
    ['more free capacity first', H264, [worker('a', { active: 1 }), worker('b')], ['b', 'a']],
    [
      'faster for the codec first',
      H264,
      [worker('a'), worker('b', { encoders: [{ ...X264, fps: 250 }] })],
      ['b', 'a'],
    ],
    ['less loaded first', H264, [worker('a', { load: 1.5 }), worker('b', { load: 0.1 })], ['b', 'a']],
    [
      'on the source site first',
      { ...H264, site: 'paris' },
      [worker('a', { labels: ['site=lyon'] }), worker('b', { labels: ['site=paris'] })],
      ['b', 'a'],
    ],
    [
      'preferred hardware first, even when slower on the probe',
      { ...H264, hardware: 'preferred' },
      [
        worker('a', { encoders: [{ ...X264, fps: 400 }] }),
        worker('b', { encoders: [{ ...NVENC, fps: 200 }] }),
      ],
      ['b', 'a'],
    ],
    [
      'hardware required: only the hardware encoders measure the speed',
      { ...H264, hardware: 'required' },
      [
        worker('a', { encoders: [{ ...X264, fps: 1000 }, NVENC] }),
        worker('b', { encoders: [{ ...NVENC, fps: 600 }] }),
      ],
      ['b', 'a'],
    ],
    [
      'two codecs: the smaller total time wins, not the fastest single encoder',
      { codecs: ['h264', 'hevc'] },
      [
        worker('a', {
          encoders: [
            { ...X264, fps: 100 },
            { ...X265, fps: 10 },
          ],
        }),
        worker('b', {
          encoders: [
            { ...X264, fps: 50 },
            { ...X265, fps: 20 },
          ],
        }),
      ],
      ['b', 'a'],
    ],
    ['equal scores by id', H264, [worker('c'), worker('a'), worker('b')], ['a', 'b', 'c']],
  ])('%s', (_name, needs, workers, want) => {
    expect(order(needs, workers)).toEqual(want);
  });

  it('scores by the documented formula', () => {
    const slow = worker('slow', { maxConcurrent: 4, active: 1, load: 1, labels: ['site=paris'] });
    const fast = worker('fast', { encoders: [{ ...X264, fps: 200 }], load: 4 });
    const { candidates } = selectWorkers({ ...H264, site: 'paris' }, [slow, fast], OPTS);
    // slow: free 0.75 + speed 100/200 − 0.5 × load 0.5 + site 0.75; fast: 1 + 1 − 0.5 × 1 (load capped at 2/core)
    expect(candidates).toEqual([
      { id: 'slow', score: 1.75 },
      { id: 'fast', score: 1.5 },
    ]);
  });

  it('gives finite scores when no speed is measured and no load is known', () => {
    const unknown = { ...X264, fps: 0 };
    const { candidates } = selectWorkers(
      H264,
      [
        worker('a', { encoders: [unknown], load: null }),
        worker('b', { encoders: [unknown], load: Number.NaN }),
      ],
      OPTS,
    );
    expect(candidates).toEqual([
      { id: 'a', score: 1.75 },
      { id: 'b', score: 1.75 },
    ]);
  });

  it('puts a worker without a measured speed behind the measured ones', () => {
    const { candidates } = selectWorkers(
      H264,
      [worker('a', { encoders: [{ ...X264, fps: 0 }] }), worker('b')],
      OPTS,
    );
    expect(candidates.map((c) => [c.id, c.score])).toEqual([
      ['b', 1.95],
      ['a', 0.95],
    ]);
  });
});

/** A small seeded generator, so that the random fleets are the same on every run. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('selectWorkers: properties over random fleets', () => {
  const random = mulberry32(20_240_601);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const some = <T>(xs: readonly T[]): T[] => xs.filter(() => random() < 0.5);
  const ENCODERS = [X264, X265, NVENC, { name: 'hevc_qsv', codec: 'hevc', hardware: 'qsv', fps: 60 }];

  const fleet = (): WorkerView[] =>
    Array.from({ length: Math.floor(random() * 9) }, (_, i) =>
      worker(`w${i}`, {
        silentSeconds: pick([0, 10, 10, 30, 31, 300]),
        status: pick(['idle', 'idle', 'busy', 'busy', 'error', 'maintenance'] as const),
        draining: random() < 0.1,
        maxConcurrent: pick([0, 1, 2, 4, 4]),
        active: pick([0, 0, 0, 1, 2, 5]),
        encoders: some(ENCODERS).map((e) => ({ ...e, fps: pick([0, 25, 100, e.fps]) })),
        labels: some(['gpu', 'site=paris', 'site=lyon']),
        load: pick([null, 0, 0.5, 3, Number.NaN]),
        asideUntil: pick([null, NOW - 1, NOW, NOW + 1000]),
      }),
    );
  const needsFor = (workers: readonly WorkerView[]): TaskNeeds => ({
    codecs: [...some(['h264', 'hevc']), pick(['aac', 'copy'])],
    labels: random() < 0.2 ? ['gpu'] : [],
    hardware: pick(['required', 'preferred', 'any', undefined]),
    site: pick([null, 'paris']),
    avoid: workers.map((w) => w.id).filter(() => random() < 0.15),
  });
  /** Written from the words, independently of the implementation. */
  const eligible = (w: WorkerView, needs: TaskNeeds) =>
    w.silentSeconds <= 30 &&
    (w.status === 'idle' || w.status === 'busy') &&
    !w.draining &&
    w.active < w.maxConcurrent &&
    !(w.asideUntil !== null && w.asideUntil > NOW) &&
    !needs.avoid?.includes(w.id) &&
    (needs.labels ?? []).every((l) => w.labels.includes(l)) &&
    needs.codecs
      .filter((c) => c === 'h264' || c === 'hevc')
      .every((c) => w.encoders.some((e) => e.codec === c && (needs.hardware !== 'required' || e.hardware)));

  const cases = Array.from({ length: 1000 }, () => {
    const workers = fleet();
    return { workers, needs: needsFor(workers) };
  });

  it('holds for every fleet', () => {
    let chosen = 0;
    let waited = 0;
    let ordered = 0;
    for (const { workers, needs } of cases) {
      const got = selectWorkers(needs, workers, OPTS);
      const byId = new Map(workers.map((w) => [w.id, w]));
      const ids = got.candidates.map((c) => c.id);
      // Exactly the eligible workers, each once, never one without a free slot.
      expect(ids.toSorted()).toEqual(workers.filter((w) => eligible(w, needs)).map((w) => w.id));
      for (const c of got.candidates) {
        const w = byId.get(c.id)!;
        expect(w.active).toBeLessThan(w.maxConcurrent);
        expect(Number.isFinite(c.score)).toBe(true);
      }
      // Best first, ties by id.
      for (let i = 1; i < got.candidates.length; i++) {
        const [a, b] = [got.candidates[i - 1]!, got.candidates[i]!];
        expect(a.score > b.score || (a.score === b.score && a.id < b.id)).toBe(true);
      }
      // A sentence exactly when there is nobody, and the same answer whatever the registry's order.
      expect(got.waiting === null).toBe(got.candidates.length > 0);
      if (got.waiting !== null) expect(got.waiting.length).toBeGreaterThan(0);
      expect(selectWorkers(needs, workers.toReversed(), OPTS)).toEqual(got);
      if (got.waiting === null) chosen++;
      else waited++;
      if (got.candidates.length > 1) ordered++;
    }
    // The generator must exercise both outcomes and real orderings, or the checks above prove little.
    expect(chosen).toBeGreaterThan(150);
    expect(waited).toBeGreaterThan(150);
    expect(ordered).toBeGreaterThan(30);
  });

  it('never scores a candidate lower for a freed slot or for being on the source site', () => {
    for (const { workers, needs } of cases) {
      for (const c of selectWorkers(needs, workers, OPTS).candidates) {
        const w = workers.find((x) => x.id === c.id)!;
        const change = (over: Partial<WorkerView>) =>
          selectWorkers(
            needs,
            workers.map((x) => (x === w ? { ...x, ...over } : x)),
            OPTS,
          ).candidates.find((x) => x.id === c.id)!.score;
        if (w.active > 0) expect(change({ active: w.active - 1 })).toBeGreaterThanOrEqual(c.score);
        expect(change({ labels: [...w.labels, `site=${needs.site ?? 'x'}`] })).toBeGreaterThanOrEqual(
          c.score,
        );
      }
    }
  });
});

describe('idleWorkers: how many could start a task now, holding none', () => {
  it('counts only online, working, undrained workers with nothing held and not put aside', () => {
    const cluster = [
      worker('idle-1'),
      worker('idle-2', { status: 'busy' }),
      worker('holds-one', { active: 1 }),
      worker('silent', { silentSeconds: 31 }),
      worker('broken', { status: 'error' }),
      worker('upkeep', { status: 'maintenance' }),
      worker('draining', { draining: true }),
      worker('aside', { asideUntil: NOW + 60_000 }),
      worker('aside-over', { asideUntil: NOW - 1 }),
      worker('no-slot', { maxConcurrent: 0 }),
    ];
    expect(idleWorkers(cluster, OPTS)).toBe(3);
    expect(idleWorkers([], OPTS)).toBe(0);
  });
});
