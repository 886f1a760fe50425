import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { fade } from './fade.operator.js';

const SRC: StreamMeta = {
  duration: 10.04,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const TONE: StreamMeta = { duration: 3, video: null, audio: { sampleRate: 44100, channels: 1 } };
const issues = (raw: unknown) => {
  const r = fade.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, src = SRC) => {
  const p = fade.params.parse(raw);
  const inputs = [
    { ...(src.video ? { video: '0:v' } : {}), ...(src.audio ? { audio: '0:a' } : {}), meta: src },
  ];
  const r = fade.filter(p, { inputs, meta: fade.output(p, [src]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('fade params', () => {
  it.each([
    [{ in: 1 }, { in: 1, video: true, audio: true }],
    [
      { out: '00:00:01.5', video: false },
      { out: 1.5, video: false, audio: true },
    ],
    [
      { in: '0.5', out: 2, colour: 'white' },
      { in: 0.5, out: 2, video: true, audio: true, colour: '0xffffffff' },
    ],
  ])('reads %j', (raw, want) => expect(fade.params.parse(raw)).toEqual(want));

  it.each([
    [{}, ['in:required']],
    [{ video: true }, ['in:required']],
    [{ in: 1, video: false, audio: false }, ['video:invalid_params']],
    [{ in: 0 }, ['in:out_of_range']],
    [{ in: -1 }, ['in:out_of_range']],
    [{ in: 1e12 }, ['in:out_of_range']],
    [{ in: 'NaN' }, ['in:invalid_format']],
    [{ in: '1e3' }, ['in:invalid_format']],
    [{ in: 1, colour: 'nope' }, ['colour:invalid_format']],
    [{ in: 1, video: 'yes' }, ['video:invalid_type']],
    [{ in: 1, type: 'in' }, ['type:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('fade check', () => {
  const check = (raw: unknown, src: StreamMeta) => fade.check!(fade.params.parse(raw), [src]);
  it.each([
    [{ in: 5, out: 5 }, SRC, []],
    [{ in: 6, out: 5 }, SRC, ['fades (11s in all) are longer than the input (10.040s)']],
    [{ out: 1 }, { ...SRC, duration: null }, ['fade out needs an input of known duration']],
    [{ in: 1 }, { ...SRC, duration: null }, []],
    [{ in: 1, audio: false }, TONE, ['nothing to fade: the input has no video']],
    [{ in: 1 }, TONE, []],
  ])('%j on %j → %j', (raw, src, want) => expect(check(raw, src)).toEqual(want));
});

describe('fade filter', () => {
  it.each([
    [{ in: 1 }, '[0:v]fade=t=in:st=0:d=1[fade_0];[0:a]afade=t=in:st=0:d=1[afade_1]'],
    [
      { in: 0.5, out: 1, audio: false },
      '[0:v]fade=t=in:st=0:d=0.5[fade_0];[fade_0]fade=t=out:st=9.04:d=1[fade_1]',
    ],
    [{ out: 2, video: false }, '[0:a]afade=t=out:st=8.04:d=2[afade_0]'],
    // Opaque black fades in the input's own format; any other colour goes through RGB and back.
    [{ in: 1, colour: '#000000', audio: false }, '[0:v]fade=t=in:st=0:d=1:color=0x000000ff[fade_0]'],
    [
      { out: 1.5, colour: 'white', audio: false },
      '[0:v]fade=t=out:st=8.54:d=1.5:color=0xffffffff[fade_0];[fade_0]format=yuv420p[format_1]',
    ],
  ])('%j → %s', (raw, graph) => {
    const r = render(raw);
    expect(r.graph).toBe(graph);
  });

  it('passes the stream it does not fade', () => {
    expect(render({ in: 1, audio: false }).audio).toBe('0:a');
    expect(render({ in: 1, video: false }).video).toBe('0:v');
  });
  it('fades audio-only input and keeps its meta', () => {
    expect(render({ in: 1, out: 1 }, TONE).graph).toBe(
      '[0:a]afade=t=in:st=0:d=1[afade_0];[afade_0]afade=t=out:st=2:d=1[afade_1]',
    );
    expect(fade.output(fade.params.parse({ in: 1 }), [TONE])).toEqual(TONE);
  });
});
