import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { crop } from './crop.operator.js';

const SRC: StreamMeta = {
  duration: 10,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const issues = (raw: unknown) => {
  const r = crop.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, src = SRC) => {
  const p = crop.params.parse(raw);
  const io = {
    inputs: [{ video: '0:v', audio: '0:a', meta: src }],
    meta: crop.output(p, [src]),
    label: labeller(),
  };
  const r = crop.filter(p, io);
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('crop params', () => {
  it.each([
    [{ width: 100, height: 80 }],
    [{ width: 2, height: 2, position: 'bottom-right' }],
    [{ width: 100, height: 80, x: 0, y: 7 }],
    [{ width: 16384, height: 16384 }],
  ])('accepts %j', (raw) => expect(issues(raw)).toEqual([]));

  it.each([
    [{}, ['width:required', 'height:required']],
    [{ width: 101, height: 80 }, ['width:out_of_range']],
    [{ width: 0, height: 80 }, ['width:out_of_range']],
    [{ width: -100, height: 80 }, ['width:out_of_range']],
    [{ width: 1e9, height: 80 }, ['width:out_of_range']],
    [{ width: Number.NaN, height: 80 }, ['width:invalid_type']],
    [{ width: Number.POSITIVE_INFINITY, height: 80 }, ['width:invalid_type']],
    [{ width: 'NaN', height: 80 }, ['width:invalid_type']],
    [{ width: '100', height: 80 }, ['width:invalid_type']],
    [{ width: 100.5, height: 80 }, ['width:invalid_type']],
    [{ width: 100, height: 80, x: -1, y: 0 }, ['x:out_of_range']],
    [{ width: 100, height: 80, x: 5 }, ['y:required']],
    [{ width: 100, height: 80, y: 5 }, ['x:required']],
    [{ width: 100, height: 80, x: 0, y: 0, position: 'top' }, ['position:invalid_params']],
    [{ width: 100, height: 80, position: 'middle' }, ['position:invalid_value']],
    [{ width: 100, height: 80, left: 3 }, ['left:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('crop check and output', () => {
  const check = (raw: unknown, src = SRC) => crop.check!(crop.params.parse(raw), [src]);
  it('accepts a crop inside the frame, at the edges too', () => {
    expect(check({ width: 320, height: 240 })).toEqual([]);
    expect(check({ width: 100, height: 40, x: 220, y: 200 })).toEqual([]);
  });
  it('refuses a crop that spills out of the frame, naming sizes', () => {
    expect(check({ width: 100, height: 40, x: 221, y: 0 })).toEqual([
      'crop 100x40 at 221,0 does not fit inside the 320x240 frame',
    ]);
    expect(check({ width: 400, height: 40 })).toEqual(['crop 400x40 is larger than the 320x240 frame']);
  });
  it('refuses media without video', () => {
    expect(check({ width: 2, height: 2 }, { ...SRC, video: null })).toEqual(['crop needs a video input']);
  });
  it('outputs the crop size and keeps the rest', () => {
    const out = crop.output(crop.params.parse({ width: 100, height: 80 }), [SRC]);
    expect(out).toEqual({ ...SRC, video: { ...SRC.video!, width: 100, height: 80 } });
  });
});

describe('crop filter', () => {
  it.each([
    [{ width: 100, height: 80 }, '[0:v]crop=w=100:h=80:x=110:y=80[crop_0]'],
    [{ width: 100, height: 80, position: 'top-left' }, '[0:v]crop=w=100:h=80:x=0:y=0[crop_0]'],
    [{ width: 100, height: 80, position: 'bottom-right' }, '[0:v]crop=w=100:h=80:x=220:y=160[crop_0]'],
    [{ width: 100, height: 80, position: 'top' }, '[0:v]crop=w=100:h=80:x=110:y=0[crop_0]'],
    [{ width: 100, height: 80, position: 'left' }, '[0:v]crop=w=100:h=80:x=0:y=80[crop_0]'],
    [{ width: 102, height: 78, position: 'center' }, '[0:v]crop=w=102:h=78:x=109:y=81[crop_0]'],
    [{ width: 100, height: 80, x: 13, y: 7 }, '[0:v]crop=w=100:h=80:x=13:y=7[crop_0]'],
  ])('%j → %s', (raw, graph) => {
    const r = render(raw);
    expect(r.graph).toBe(graph);
    expect(r.audio).toBe('0:a');
  });
});
