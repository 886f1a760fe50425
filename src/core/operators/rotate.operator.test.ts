import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { rotate } from './rotate.operator.js';

const SRC: StreamMeta = {
  duration: 10,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const issues = (raw: unknown) => {
  const r = rotate.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};

describe('rotate params', () => {
  it('defaults to a quarter turn clockwise', () => expect(rotate.params.parse({})).toEqual({ angle: 90 }));
  it.each([
    [{ angle: 45 }, ['angle:invalid_value']],
    [{ angle: '90' }, ['angle:invalid_value']],
    [{ angle: 450 }, ['angle:invalid_value']],
    [{ angle: Number.NaN }, ['angle:invalid_value']],
    [{ flip: 'diagonal' }, ['flip:invalid_value']],
    [{ angle: 90, mirror: true }, ['mirror:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('rotate output and filter', () => {
  it.each([
    [{}, '[0:v]transpose=clock[transpose_0]', 240, 320],
    [{ angle: 270 }, '[0:v]transpose=cclock[transpose_0]', 240, 320],
    [{ angle: -90 }, '[0:v]transpose=cclock[transpose_0]', 240, 320],
    [
      { angle: -90, flip: 'horizontal' },
      '[0:v]transpose=cclock[transpose_0];[transpose_0]hflip[hflip_1]',
      240,
      320,
    ],
    [
      { angle: 90, flip: 'vertical' },
      '[0:v]transpose=clock[transpose_0];[transpose_0]vflip[vflip_1]',
      240,
      320,
    ],
    [{ angle: 180 }, '[0:v]hflip[hflip_0];[hflip_0]vflip[vflip_1]', 320, 240],
    [{ angle: 180, flip: 'vertical' }, '[0:v]hflip[hflip_0]', 320, 240],
    [{ angle: 180, flip: 'horizontal' }, '[0:v]vflip[vflip_0]', 320, 240],
    [{ angle: 0, flip: 'horizontal' }, '[0:v]hflip[hflip_0]', 320, 240],
    [{ angle: 0 }, '', 320, 240],
  ])('%j → "%s" at %ix%i', (raw, graph, width, height) => {
    const p = rotate.params.parse(raw);
    const meta = rotate.output(p, [SRC]);
    expect(meta).toEqual({ ...SRC, video: { ...SRC.video!, width, height } });
    const r = rotate.filter(p, {
      inputs: [{ video: '0:v', audio: '0:a', meta: SRC }],
      meta,
      label: labeller(),
    });
    expect(renderGraph(r.nodes)).toBe(graph);
    expect(r.audio).toBe('0:a');
    if (graph === '') expect(r.video).toBe('0:v');
  });
});
