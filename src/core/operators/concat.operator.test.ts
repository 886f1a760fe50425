import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { concat } from './concat.operator.js';

const clip = (
  width: number,
  height: number,
  num: number,
  duration: number | null,
  audio = true,
): StreamMeta => ({
  duration,
  video: { width, height, fps: { num, den: 1 }, pixFmt: 'yuv444p', codec: 'h264' },
  audio: audio ? { sampleRate: 44100, channels: 1, codec: 'aac' } : null,
});
const tone = (duration: number): StreamMeta => ({
  duration,
  video: null,
  audio: { sampleRate: 22050, channels: 1 },
});

const render = (metas: StreamMeta[]) => {
  const p = concat.params.parse({});
  const inputs = metas.map((meta, i) => ({
    ...(meta.video ? { video: `${i}:v` } : {}),
    ...(meta.audio ? { audio: `${i}:a` } : {}),
    meta,
  }));
  const r = concat.filter(p, { inputs, meta: concat.output(p, metas), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};
/** Input i fitted inside 320x240 (at w×h, aspect kept), padded to it, retimed, 4:2:0. */
const NORM = (i: number, n: number, w = 320, h = 240) =>
  `[${i}:v]scale=w=${w}:h=${h}[scale_${n}];` +
  `[scale_${n}]pad=w=320:h=240:x=-1:y=-1[pad_${n + 1}];[pad_${n + 1}]setsar=1[setsar_${n + 2}];` +
  `[setsar_${n + 2}]fps=fps=25/1[fps_${n + 3}];[fps_${n + 3}]format=yuv420p[format_${n + 4}]`;

describe('concat params', () => {
  it('takes no parameters', () => {
    expect(concat.params.parse({})).toEqual({});
    const r = concat.params.safeParse({ normalize: true }, { reportInput: true });
    expect(r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`)).toEqual([
      'normalize:unknown_key',
    ]);
  });
  it('takes 2 to 16 inputs', () => expect(concat.inputs).toEqual({ kind: 'any', min: 2, max: 16 }));
});

describe('concat check', () => {
  const check = (metas: StreamMeta[]) => concat.check!({}, metas);
  it.each([
    [[clip(320, 240, 25, 2), clip(640, 360, 30, 1, false)], []],
    [[tone(1), tone(2)], []],
    [[clip(320, 240, 25, 2, false), clip(320, 240, 25, null, false)], []],
    [
      [
        clip(320, 240, 25, 2),
        { duration: null, still: true, video: clip(64, 48, 25, null).video, audio: null },
      ],
      ['input 2 is a still image; concat joins clips'],
    ],
    [
      [clip(320, 240, 25, 2), tone(1)],
      ['input 2 has no video but input 1 has; give all inputs video or none'],
    ],
    [
      [tone(1), clip(320, 240, 25, 2)],
      ['input 2 has video but input 1 has none; give all inputs video or none'],
    ],
    [
      [clip(320, 240, 25, 2), clip(320, 240, 25, null, false)],
      ['input 2 has no audio and no known duration to fill with silence'],
    ],
  ])('%#', (metas, want) => expect(check(metas)).toEqual(want));
});

describe('concat output', () => {
  it("sums durations and takes the first input's size and rate, as yuv420p and 48 kHz stereo", () => {
    expect(
      concat.output({}, [clip(321, 241, 25, 2, false), clip(640, 360, 30, 1.5), clip(200, 300, 24, 1)]),
    ).toEqual({
      duration: 4.5,
      video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
      audio: { sampleRate: 48000, channels: 2 },
    });
  });
  it('has no duration when one input has none, and no audio when none has any', () => {
    expect(concat.output({}, [clip(320, 240, 25, 2, false), clip(320, 240, 25, null, false)])).toMatchObject({
      duration: null,
      audio: null,
    });
  });
});

describe('concat filter', () => {
  it('normalises video, gives a silent input silence as long as it is, and joins in segment order', () => {
    const r = render([clip(320, 240, 25, 2), clip(640, 360, 30, 1.5, false)]);
    expect(r.graph).toBe(
      [
        NORM(0, 0),
        NORM(1, 5, 320, 180),
        '[0:a]aresample=48000[aresample_10]',
        '[aresample_10]aformat=sample_fmts=fltp:channel_layouts=stereo[aformat_11]',
        'anullsrc=r=48000:cl=stereo[anullsrc_12]',
        '[anullsrc_12]atrim=duration=1.5[atrim_13]',
        '[format_4][aformat_11][format_9][atrim_13]concat=n=2:v=1:a=1[concat_v_14][concat_a_15]',
      ].join(';'),
    );
    expect([r.video, r.audio]).toEqual(['concat_v_14', 'concat_a_15']);
  });
  it('joins video only', () => {
    const r = render([clip(320, 240, 25, 1, false), clip(160, 120, 50, 1, false)]);
    expect(r.graph).toBe(`${NORM(0, 0)};${NORM(1, 5)};[format_4][format_9]concat=n=2:v=1:a=0[concat_v_10]`);
    expect(r.audio).toBeUndefined();
  });
  it('joins audio only', () => {
    const r = render([tone(1.5), tone(2), tone(1)]);
    expect(r.graph).toBe(
      [0, 1, 2]
        .map(
          (i) =>
            `[${i}:a]aresample=48000[aresample_${2 * i}];[aresample_${2 * i}]aformat=sample_fmts=fltp:channel_layouts=stereo[aformat_${2 * i + 1}]`,
        )
        .concat('[aformat_1][aformat_3][aformat_5]concat=n=3:v=0:a=1[concat_a_6]')
        .join(';'),
    );
    expect(r.video).toBeUndefined();
  });
  it('joins only the kinds it is given pads for', () => {
    const metas = [clip(320, 240, 25, 1), clip(320, 240, 25, 1)];
    const inputs = metas.map((meta, i) => ({ audio: `${i}:a`, meta }));
    const r = concat.filter({}, { inputs, meta: concat.output({}, metas), label: labeller() });
    expect(r.video).toBeUndefined();
    expect(renderGraph(r.nodes)).toMatch(/concat=n=2:v=0:a=1\[concat_a_4\]$/);
  });
});
