import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { mix } from './mix.operator.js';

const CLIP: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 1 },
};
const MUSIC: StreamMeta = { duration: 7, video: null, audio: { sampleRate: 48000, channels: 2 } };
const VOICE: StreamMeta = { duration: 20, video: null, audio: { sampleRate: 22050, channels: 1 } };
const issues = (raw: unknown) => {
  const r = mix.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, srcs: StreamMeta[]) => {
  const p = mix.params.parse(raw);
  const inputs = srcs.map((s, i) => ({
    ...(s.video ? { video: `${i}:v` } : {}),
    ...(s.audio ? { audio: `${i}:a` } : {}),
    meta: s,
  }));
  const r = mix.filter(p, { inputs, meta: mix.output(p, srcs), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('mix params', () => {
  it.each([
    [{}, { duration: 'longest', normalize: true }],
    [
      { duration: 'shortest', weights: [1, 0.5], normalize: false },
      { duration: 'shortest', weights: [1, 0.5], normalize: false },
    ],
    [
      { duration: 'first', weights: [0, 10, 2] },
      { duration: 'first', weights: [0, 10, 2], normalize: true },
    ],
  ])('reads %j', (raw, want) => expect(mix.params.parse(raw)).toEqual(want));

  it.each([
    [{ duration: 'last' }, ['duration:invalid_value']],
    [{ weights: [1] }, ['weights:out_of_range']],
    [{ weights: [1, 1, 1, 1, 1, 1, 1, 1, 1] }, ['weights:out_of_range']],
    [{ weights: [1, -1] }, ['weights[1]:out_of_range']],
    [{ weights: [1, 11] }, ['weights[1]:out_of_range']],
    [{ weights: [1, 1e30] }, ['weights[1]:out_of_range']],
    [{ weights: [0, 0] }, ['weights:out_of_range']],
    [{ weights: [1, '2'] }, ['weights[1]:invalid_type']],
    [{ weights: '1 2' }, ['weights:invalid_type']],
    [{ normalize: 1 }, ['normalize:invalid_type']],
    [{ dropout_transition: 2 }, ['dropout_transition:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('mix check', () => {
  it.each([
    [{}, [CLIP, MUSIC], []],
    [{ weights: [1, 2] }, [CLIP, MUSIC, VOICE], ['weights has 2 values for 3 inputs']],
    [{}, [CLIP, { ...MUSIC, audio: null }], ['input 2 of mix has no audio']],
  ])('%j', (raw, srcs, want) => expect(mix.check!(mix.params.parse(raw), srcs)).toEqual(want));
});

describe('mix output', () => {
  // Checked against FFmpeg 5.1 (12 s clip + 7 s stereo 48 kHz + 20 s mono 22.05 kHz): durations 12, 7, 20.
  it.each([
    ['longest', [CLIP, MUSIC], 12],
    ['shortest', [CLIP, MUSIC], 7],
    ['first', [MUSIC, CLIP, VOICE], 7],
    ['longest', [CLIP, MUSIC, VOICE], 20],
    ['longest', [CLIP, { ...MUSIC, duration: null }], null],
    ['first', [CLIP, { ...MUSIC, duration: null }], 12],
  ] as const)('duration=%s', (duration, srcs, want) => {
    expect(mix.output(mix.params.parse({ duration }), srcs).duration).toBe(want);
  });

  it("takes the first input's video and sample rate, and the most channels", () => {
    expect(mix.output(mix.params.parse({}), [CLIP, MUSIC])).toEqual({
      duration: 12,
      video: CLIP.video,
      audio: { sampleRate: 44100, channels: 2 },
    });
    expect(mix.output(mix.params.parse({}), [MUSIC, CLIP])).toEqual({
      duration: 12,
      video: null,
      audio: { sampleRate: 48000, channels: 2 },
    });
  });
});

describe('mix filter', () => {
  const pin = (rate: number, ch: number) =>
    `[amix_0]aformat=sample_rates=${rate}:channel_layouts=${ch}c[aformat_1]`;
  it('mixes, pins the format and passes the first video through', () => {
    const r = render({}, [CLIP, MUSIC]);
    expect(r.graph).toBe(`[0:a][1:a]amix=inputs=2:duration=longest[amix_0];${pin(44100, 2)}`);
    expect(r).toMatchObject({ video: '0:v', audio: 'aformat_1' });
  });

  it('cuts the video where a shorter mix ends', () => {
    const r = render({ duration: 'shortest', weights: [1, 0.5], normalize: false }, [CLIP, MUSIC]);
    expect(r.graph).toBe(
      `[0:a][1:a]amix=inputs=2:duration=shortest:weights=1 0.5:normalize=0[amix_0];${pin(44100, 2)};` +
        '[0:v]trim=duration=7[trim_2]',
    );
    expect(r).toMatchObject({ video: 'trim_2', audio: 'aformat_1' });
  });

  it('holds the last frame where a longer mix goes on (longest)', () => {
    const r = render({}, [CLIP, VOICE]); // 12 s of picture in a 20 s mix
    expect(r.graph).toBe(
      `[0:a][1:a]amix=inputs=2:duration=longest[amix_0];${pin(44100, 1)};` +
        '[0:v]tpad=stop_mode=clone:stop_duration=8[tpad_2]',
    );
    expect(r).toMatchObject({ video: 'tpad_2', audio: 'aformat_1' });
  });

  it('renders three audio-only inputs', () => {
    const r = render({ duration: 'first', weights: [2, 1, 0.25] }, [MUSIC, VOICE, MUSIC]);
    expect(r.graph).toBe(
      `[0:a][1:a][2:a]amix=inputs=3:duration=first:weights=2 1 0.25[amix_0];${pin(48000, 2)}`,
    );
    expect(r.video).toBeUndefined();
  });

  it('mixes nothing when no audio pad comes in (written with audio none): only the video is fitted', () => {
    const p = mix.params.parse({});
    const inputs = [{ video: '0:v', meta: CLIP }, { meta: VOICE }];
    const r = mix.filter(p, { inputs, meta: mix.output(p, [CLIP, VOICE]), label: labeller() });
    expect(renderGraph(r.nodes)).toBe('[0:v]tpad=stop_mode=clone:stop_duration=8[tpad_0]');
    expect(r).toEqual({ nodes: r.nodes, video: 'tpad_0' });
  });
});
