import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { fps } from './fps.operator.js';

const SRC: StreamMeta = {
  duration: 10,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const issues = (raw: unknown) => {
  const r = fps.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};

describe('fps params', () => {
  it.each([
    ['ntsc', { num: 30000, den: 1001 }],
    ['29.97', { num: 30000, den: 1001 }],
    ['30000/1001', { num: 30000, den: 1001 }],
    [25, { num: 25, den: 1 }],
    ['50/2', { num: 25, den: 1 }],
    [0.5, { num: 1, den: 2 }],
    [300, { num: 300, den: 1 }],
  ])('reads %j as %j', (v, want) => expect(fps.params.parse({ fps: v }).fps).toEqual(want));

  it.each([
    [{ fps: 301 }, ['fps:out_of_range']],
    [{ fps: '100000/1' }, ['fps:out_of_range']],
    [{ fps: '1000000/1' }, ['fps:invalid_format']],
    [{ fps: 0.001 }, ['fps:out_of_range']],
    [{ fps: 0 }, ['fps:invalid_format']],
    [{ fps: -25 }, ['fps:invalid_format']],
    [{ fps: 'NaN' }, ['fps:invalid_format']],
    [{ fps: '1e9' }, ['fps:invalid_format']],
    [{ fps: '25/0' }, ['fps:invalid_format']],
    [{ fps: 25, rate: 30 }, ['rate:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));

  // A number-or-string union: its code for these comes from the shared union mapping in issues.ts.
  it.each([[{}], [{ fps: Number.NaN }], [{ fps: Number.POSITIVE_INFINITY }], [{ fps: null }]])(
    'rejects %j',
    (raw) => expect(issues(raw)).toEqual([expect.stringMatching(/^fps:/)]),
  );
});

describe('fps output and filter', () => {
  it.each([
    ['ntsc', '[0:v]fps=fps=30000/1001[fps_0]', { num: 30000, den: 1001 }],
    [10, '[0:v]fps=fps=10/1[fps_0]', { num: 10, den: 1 }],
    ['12.5', '[0:v]fps=fps=25/2[fps_0]', { num: 25, den: 2 }],
  ])('%j → %s', (v, graph, rate) => {
    const p = fps.params.parse({ fps: v });
    const meta = fps.output(p, [SRC]);
    expect(meta).toEqual({ ...SRC, video: { ...SRC.video!, fps: rate } });
    const r = fps.filter(p, { inputs: [{ video: '0:v', audio: '0:a', meta: SRC }], meta, label: labeller() });
    expect(renderGraph(r.nodes)).toBe(graph);
    expect(r.audio).toBe('0:a');
  });
});
