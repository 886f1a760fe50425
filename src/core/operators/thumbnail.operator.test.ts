import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { framesEvery, thumbnail } from './thumbnail.operator.js';

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 44100, channels: 1 },
};
const WIDE: StreamMeta = {
  duration: 95.028,
  video: { width: 640, height: 360, fps: { num: 30000, den: 1001 } },
  audio: null,
};
const PICTURE: StreamMeta = {
  duration: null,
  video: { width: 800, height: 600, fps: { num: 25, den: 1 } },
  audio: null,
  still: true,
  frames: 1,
};
const issues = (raw: unknown) => {
  const r = thumbnail.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const out = (raw: unknown, src = SRC) => thumbnail.output(thumbnail.params.parse(raw), [src]);
const check = (raw: unknown, src = SRC) => thumbnail.check!(thumbnail.params.parse(raw), [src]);
const render = (raw: unknown, src = SRC) => {
  const p = thumbnail.params.parse(raw);
  const inputs = [
    { ...(src.video ? { video: '0:v' } : {}), ...(src.audio ? { audio: '0:a' } : {}), meta: src },
  ];
  const r = thumbnail.filter(p, { inputs, meta: thumbnail.output(p, [src]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('thumbnail params', () => {
  it.each([
    [{}, {}],
    [{ at: '00:00:05.5' }, { at: 5.5 }],
    [
      { at: 0, width: 160 },
      { at: 0, width: 160 },
    ],
    [{ every: '0:10' }, { every: 10 }],
    [
      { every: 2.5, width: 16 },
      { every: 2.5, width: 16 },
    ],
  ])('reads %j', (raw, want) => expect(thumbnail.params.parse(raw)).toEqual(want));

  it.each([
    [{ at: 1, every: 5 }, ['every:invalid_params']],
    [{ at: -1 }, ['at:out_of_range']],
    [{ at: 1e9 }, ['at:out_of_range']],
    [{ at: 'soon' }, ['at:invalid_format']],
    [{ every: 0 }, ['every:out_of_range']],
    [{ every: -5 }, ['every:out_of_range']],
    [{ every: Number.NaN }, ['every:invalid_type']],
    [{ width: 15 }, ['width:out_of_range']],
    [{ width: 16385 }, ['width:out_of_range']],
    [{ width: 160.5 }, ['width:invalid_type']],
    [{ at: 1, size: 160 }, ['size:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('thumbnail', () => {
  it('takes one still picture at `at` (0 by default), video only', () => {
    expect(out({})).toEqual({ duration: null, video: SRC.video, audio: null, still: true, frames: 1 });
    expect(out({ at: 5.5, width: 160 })).toEqual({
      duration: null,
      video: { ...SRC.video, width: 160, height: 120 },
      audio: null,
      still: true,
      frames: 1,
    });
    expect(out({ width: 101 }).video).toMatchObject({ width: 101, height: 76 });
  });

  // FFmpeg 5.1, 12 s at 25 fps: every 5 → 3 pictures (0, 5, 10), every 10 → 2, every 7 → 2; 95.028 s every 2.5 → 39.
  it.each([
    [12, 5, 3],
    [12, 10, 2],
    [12, 12, 1],
    [12, 7, 2],
    [9.96, 10, 1],
    [0.04, 5, 1],
    [95.028, 2.5, 39],
    [0.3, 0.1, 3],
    [null, 5, 1],
  ])('duration %s every %s gives %s pictures', (duration, every, n) =>
    expect(framesEvery(duration, every)).toBe(n),
  );

  it('with every, yields a picture sequence at 1/every', () => {
    expect(out({ every: 5, width: 160 })).toEqual({
      duration: 15,
      video: { ...SRC.video, width: 160, height: 120, fps: { num: 1, den: 5 } },
      audio: null,
      frames: 3,
    });
    expect(out({ every: 2.5, width: 200 }, WIDE)).toMatchObject({
      frames: 39,
      video: { width: 200, height: 112, fps: { num: 2, den: 5 } },
    });
  });

  it.each([
    [{}, SRC, []],
    [{ at: 11.96 }, SRC, []],
    [{ at: 11.97 }, SRC, ['at 11.97s is past the last frame of the input (11.960s)']],
    [{ at: 30 }, SRC, ['at 30s is past the last frame of the input (11.960s)']],
    [{ at: 0 }, PICTURE, []],
    [{ at: 1 }, PICTURE, ['at 1s is past the last frame of the input (0.000s)']],
    [{ every: 5 }, PICTURE, ['every needs a video with a known duration; use at']],
    [{ every: 0.001 }, SRC, ['every 0.001s gives 12000 pictures, more than 10000: raise every']],
    [{}, { ...SRC, video: null }, ['thumbnail needs an input with video']],
  ])('checks %j', (raw, src, want) => expect(check(raw, src)).toEqual(want));

  it.each([
    [{}, '[0:v]trim=start=0[trim_0];[trim_0]trim=end_frame=1[trim_1];[trim_1]setpts=PTS-STARTPTS[setpts_2]'],
    [
      { at: '00:00:05.5', width: 160 },
      '[0:v]trim=start=5.5[trim_0];[trim_0]trim=end_frame=1[trim_1];[trim_1]setpts=PTS-STARTPTS[setpts_2];' +
        '[setpts_2]scale=w=160:h=120[scale_3];[scale_3]setsar=1[setsar_4]',
    ],
    [{ every: 10 }, '[0:v]fps=fps=1/10:round=up:eof_action=pass[fps_0];[fps_0]trim=end_frame=2[trim_1]'],
    [
      { every: 2.5, width: 160 },
      '[0:v]fps=fps=1/2.5:round=up:eof_action=pass[fps_0];[fps_0]trim=end_frame=5[trim_1];' +
        '[trim_1]scale=w=160:h=120[scale_2];[scale_2]setsar=1[setsar_3]',
    ],
  ])('renders %j, video only', (raw, graph) => {
    const r = render(raw);
    expect(r.graph).toBe(graph);
    expect(r.audio).toBeUndefined();
    expect(r.video).toBe(r.nodes.at(-1)!.out[0]);
  });
});
