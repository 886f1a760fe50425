import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { anchorOffset, pad } from './pad.operator.js';

const SRC: StreamMeta = {
  duration: 10,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const issues = (raw: unknown) => {
  const r = pad.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, src = SRC) => {
  const p = pad.params.parse(raw);
  const io = {
    inputs: [{ video: '0:v', audio: '0:a', meta: src }],
    meta: pad.output(p, [src]),
    label: labeller(),
  };
  const r = pad.filter(p, io);
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('pad params', () => {
  it('defaults to black, centred', () => {
    expect(pad.params.parse({ width: 400, height: 300 })).toEqual({
      width: 400,
      height: 300,
      colour: '0x000000ff',
      position: 'center',
    });
  });
  it.each([
    [{ width: 400, height: 300, colour: '#FF000080', position: 'top-left' }],
    [{ width: 16384, height: 2, colour: 'transparent' }],
  ])('accepts %j', (raw) => expect(issues(raw)).toEqual([]));
  it.each([
    [{ height: 300 }, ['width:required']],
    [{ width: 401, height: 300 }, ['width:out_of_range']],
    [{ width: 400, height: 1e12 }, ['height:out_of_range']],
    [{ width: 400, height: -2 }, ['height:out_of_range']],
    [{ width: 400, height: Number.NaN }, ['height:invalid_type']],
    [{ width: '400', height: 300 }, ['width:invalid_type']],
    [{ width: 400, height: 300, colour: 'red:x' }, ['colour:invalid_format']],
    [{ width: 400, height: 300, colour: '#12345' }, ['colour:invalid_format']],
    [{ width: 400, height: 300, position: '10:10' }, ['position:invalid_value']],
    [{ width: 400, height: 300, color: 'red' }, ['color:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('pad check and output', () => {
  const check = (raw: unknown) => pad.check!(pad.params.parse(raw), [SRC]);
  it('accepts a target as large as the frame or larger', () => {
    expect(check({ width: 320, height: 240 })).toEqual([]);
    expect(check({ width: 640, height: 480 })).toEqual([]);
  });
  it('refuses a target smaller than the frame', () => {
    expect(check({ width: 300, height: 480 })).toEqual([
      'pad size 300x480 is smaller than the 320x240 frame; crop or scale first',
    ]);
  });
  it('outputs the padded size', () => {
    expect(pad.output(pad.params.parse({ width: 400, height: 300 }), [SRC]).video).toEqual({
      ...SRC.video!,
      width: 400,
      height: 300,
    });
  });
  it('places a box at each anchor', () => {
    const outer = { width: 400, height: 301 };
    const inner = { width: 320, height: 240 };
    expect(anchorOffset('top-left', outer, inner)).toEqual({ x: 0, y: 0 });
    expect(anchorOffset('center', outer, inner)).toEqual({ x: 40, y: 30 });
    expect(anchorOffset('bottom-right', outer, inner)).toEqual({ x: 80, y: 61 });
    expect(anchorOffset('right', outer, inner)).toEqual({ x: 80, y: 30 });
    expect(anchorOffset('bottom', outer, inner)).toEqual({ x: 40, y: 61 });
  });
});

describe('pad filter', () => {
  it.each([
    [{ width: 400, height: 300 }, '[0:v]pad=w=400:h=300:x=40:y=30:color=0x000000ff[pad_0]'],
    [
      { width: 322, height: 242, colour: '#ff000080', position: 'top-left' },
      '[0:v]pad=w=322:h=242:x=0:y=0:color=0xff000080[pad_0]',
    ],
    [
      { width: 640, height: 480, colour: 'white', position: 'bottom-right' },
      '[0:v]pad=w=640:h=480:x=320:y=240:color=0xffffffff[pad_0]',
    ],
  ])('%j → %s', (raw, graph) => {
    const r = render(raw);
    expect(r.graph).toBe(graph);
    expect(r.audio).toBe('0:a');
  });
});
