import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { atempoChain, speed } from './speed.operator.js';

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 1 },
};
const NTSC: StreamMeta = {
  duration: 95.028,
  video: { width: 640, height: 360, fps: { num: 30000, den: 1001 } },
  audio: null,
};
const TONE: StreamMeta = { duration: 20, video: null, audio: { sampleRate: 22050, channels: 1 } };
const issues = (raw: unknown) => {
  const r = speed.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (factor: number, src = SRC) => {
  const p = speed.params.parse({ factor });
  const inputs = [
    { ...(src.video ? { video: '0:v' } : {}), ...(src.audio ? { audio: '0:a' } : {}), meta: src },
  ];
  const r = speed.filter(p, { inputs, meta: speed.output(p, [src]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('speed params', () => {
  it.each([0.25, 0.5, 1, 1.5, 4])('reads %s', (factor) =>
    expect(speed.params.parse({ factor })).toEqual({ factor }),
  );

  it.each([
    [{}, ['factor:required']],
    [{ factor: 0 }, ['factor:out_of_range']],
    [{ factor: -2 }, ['factor:out_of_range']],
    [{ factor: 0.2 }, ['factor:out_of_range']],
    [{ factor: 4.01 }, ['factor:out_of_range']],
    [{ factor: 1e100 }, ['factor:out_of_range']],
    [{ factor: Number.POSITIVE_INFINITY }, ['factor:invalid_type']],
    [{ factor: '2' }, ['factor:invalid_type']],
    [{ factor: 2, pitch: true }, ['pitch:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('speed', () => {
  it.each([
    [4, [2, 2]],
    [3, [2, 1.5]],
    [2, [2]],
    [1.5, [1.5]],
    [0.5, [0.5]],
    [0.3, [0.5, 0.6]],
    [0.25, [0.5, 0.5]],
  ])('splits %s into atempo steps within 0.5..2', (factor, want) => {
    const steps = atempoChain(factor);
    expect(steps).toEqual(want.map((x) => expect.closeTo(x, 9)));
    expect(steps.reduce((a, b) => a * b, 1)).toBeCloseTo(factor, 9);
  });

  // Checked against FFmpeg 5.1 on a 12 s 25 fps clip: factor 2 → 150 frames, 0.3 → 1000, 0.7 → 429.
  it.each([
    [2, 6],
    [0.5, 24],
    [0.3, 40],
  ])('divides the duration by %s, keeping the frame rate', (factor, duration) => {
    expect(speed.output({ factor }, [SRC])).toEqual({ ...SRC, duration });
  });

  // FFmpeg 5.1's frame counts for the 12 s 25 fps clip: the cap must never cut one of them.
  it.each([
    [2.2, 136],
    [0.7, 429],
    [3.7, 81],
    [0.35, 857],
  ])('caps factor %s at %s frames', (factor, frames) => {
    expect(render(factor).nodes.find((n) => n.name === 'trim')?.args).toEqual({ end_frame: frames });
  });

  it('does not cap without a known duration', () => {
    expect(render(2, { ...SRC, duration: null }).nodes.map((n) => n.name)).toEqual([
      'setpts',
      'fps',
      'atempo',
    ]);
  });

  it('refuses a still picture', () => {
    expect(speed.check!({ factor: 2 }, [{ ...SRC, duration: null, still: true, frames: 1 }])).toEqual([
      'speed needs moving media, not a still image',
    ]);
    expect(speed.check!({ factor: 2 }, [SRC])).toEqual([]);
  });

  it.each([
    [
      2,
      SRC,
      '[0:v]setpts=PTS/2[setpts_0];[setpts_0]fps=fps=25/1[fps_1];[fps_1]trim=end_frame=150[trim_2];[0:a]atempo=2[atempo_3]',
    ],
    [
      3,
      SRC,
      '[0:v]setpts=PTS/3[setpts_0];[setpts_0]fps=fps=25/1[fps_1];[fps_1]trim=end_frame=100[trim_2];' +
        '[0:a]atempo=2[atempo_3];[atempo_3]atempo=1.5[atempo_4]',
    ],
    [
      0.3,
      SRC,
      '[0:v]setpts=PTS/0.3[setpts_0];[setpts_0]fps=fps=25/1[fps_1];[fps_1]trim=end_frame=1000[trim_2];' +
        '[0:a]atempo=0.5[atempo_3];[atempo_3]atempo=0.6[atempo_4]',
    ],
    [
      1.5,
      NTSC,
      '[0:v]setpts=PTS/1.5[setpts_0];[setpts_0]fps=fps=30000/1001[fps_1];[fps_1]trim=end_frame=1899[trim_2]',
    ],
    [0.25, TONE, '[0:a]atempo=0.5[atempo_0];[atempo_0]atempo=0.5[atempo_1]'],
  ])('renders factor %s', (factor, src, graph) => expect(render(factor, src).graph).toBe(graph));
});
