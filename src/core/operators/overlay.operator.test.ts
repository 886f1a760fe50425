import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { overlay } from './overlay.operator.js';

const MAIN: StreamMeta = {
  duration: 10,
  video: { width: 1280, height: 720, fps: { num: 25, den: 1 }, pixFmt: 'yuv420p' },
  audio: { sampleRate: 48000, channels: 2 },
};
const LOGO: StreamMeta = {
  duration: null,
  still: true,
  frames: 1,
  video: { width: 200, height: 100, fps: { num: 25, den: 1 } },
  audio: null,
};
const CLIP: StreamMeta = { ...MAIN, duration: 3, video: { ...MAIN.video!, width: 320, height: 180 } };

const issues = (raw: unknown) => {
  const r = overlay.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const render = (raw: unknown, mark = LOGO, main = MAIN) => {
  const p = overlay.params.parse(raw);
  const inputs = [
    { video: '0:v', audio: '0:a', meta: main },
    { video: '1:v', ...(mark.audio ? { audio: '1:a' } : {}), meta: mark },
  ];
  const r = overlay.filter(p, { inputs, meta: overlay.output(p, [main, mark]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('overlay params', () => {
  it('defaults to bottom-right, 10 px margin, opaque, always on', () =>
    expect(overlay.params.parse({})).toEqual({
      position: { anchor: 'bottom-right' },
      margin: 10,
      opacity: 1,
    }));
  it.each([
    [{ position: '20:30', margin: 0, opacity: 0, scale: 0.01, start: 0, end: '00:00:05' }],
    [{ position: 'top-left', margin: 4096, opacity: 0.5, scale: 1, start: '1.5' }],
  ])('accepts %j', (raw) => expect(issues(raw)).toEqual([]));
  it.each([
    [{ position: 'middle' }, ['position:invalid_format']],
    [{ position: '-5:10' }, ['position:invalid_format']],
    [{ margin: -1 }, ['margin:out_of_range']],
    [{ margin: 4097 }, ['margin:out_of_range']],
    [{ margin: 2.5 }, ['margin:invalid_type']],
    [{ margin: Number.NaN }, ['margin:invalid_type']],
    [{ opacity: 1.5 }, ['opacity:out_of_range']],
    [{ opacity: -0.1 }, ['opacity:out_of_range']],
    [{ opacity: '0.5' }, ['opacity:invalid_type']],
    [{ opacity: Number.POSITIVE_INFINITY }, ['opacity:invalid_type']],
    [{ scale: 0 }, ['scale:out_of_range']],
    [{ scale: 2 }, ['scale:out_of_range']],
    [{ start: 'soon' }, ['start:invalid_format']],
    [{ start: 5, end: 5 }, ['end:out_of_range']],
    [{ start: 5, end: '00:00:02' }, ['end:out_of_range']],
    [{ x: 5 }, ['x:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('overlay check and output', () => {
  const check = (raw: unknown, main = MAIN) => overlay.check!(overlay.params.parse(raw), [main, LOGO]);
  it.each([
    [{}, []],
    [{ position: '1279:719', start: 9.9 }, []],
    [{ position: '1280:0' }, ['watermark at 1280:0 is outside the 1280x720 frame']],
    [{ start: 10 }, ['start 10s is past the end of the main video (10.000s)']],
  ])('%j → %j', (raw, want) => expect(check(raw)).toEqual(want));
  it('refuses a main without video', () => {
    expect(check({}, { ...MAIN, video: null })).toEqual([
      'overlay needs two video inputs: the main video and the watermark',
    ]);
  });
  it("outputs the main's meta", () =>
    expect(overlay.output(overlay.params.parse({}), [MAIN, CLIP])).toEqual(MAIN));
});

describe('overlay filter', () => {
  it.each([
    [
      {},
      LOGO,
      '[1:v]format=rgba[format_0];[0:v][format_0]overlay=x=main_w-overlay_w-10:y=main_h-overlay_h-10:eof_action=repeat:format=auto[overlay_1];[overlay_1]format=yuv420p[format_2]',
    ],
    [
      { position: 'top-left', margin: 0, opacity: 0.5, scale: 0.25 },
      LOGO,
      '[1:v]scale=w=320:h=160[scale_0];[scale_0]format=rgba[format_1];[format_1]colorchannelmixer=aa=0.5[colorchannelmixer_2];[0:v][colorchannelmixer_2]overlay=x=0:y=0:eof_action=repeat:format=auto[overlay_3];[overlay_3]format=yuv420p[format_4]',
    ],
    [
      { position: 'center', start: 0.5, end: '00:00:02' },
      LOGO,
      '[1:v]format=rgba[format_0];[0:v][format_0]overlay=x=(main_w-overlay_w)/2:y=(main_h-overlay_h)/2:eof_action=repeat:format=auto:enable=between(t\\,0.5\\,2)[overlay_1];[overlay_1]format=yuv420p[format_2]',
    ],
    [
      { position: '100:50', start: 1 },
      LOGO,
      '[1:v]format=rgba[format_0];[0:v][format_0]overlay=x=100:y=50:eof_action=repeat:format=auto:enable=gte(t\\,1)[overlay_1];[overlay_1]format=yuv420p[format_2]',
    ],
    [
      { position: 'top', scale: 0.01, end: 2.5 },
      CLIP,
      '[1:v]scale=w=13:h=7[scale_0];[scale_0]format=rgba[format_1];[0:v][format_1]overlay=x=(main_w-overlay_w)/2:y=10:eof_action=pass:format=auto:enable=lte(t\\,2.5)[overlay_2];[overlay_2]format=yuv420p[format_3]',
    ],
  ])('%j → %s', (raw, mark, graph) => {
    const r = render(raw, mark);
    expect(r.graph).toBe(graph);
    expect(r.audio).toBe('0:a');
  });

  it('leaves the pixel format alone when the main one is unknown', () => {
    const main = { ...MAIN, video: { width: 1280, height: 720, fps: { num: 25, den: 1 } } };
    const r = render({ position: 'right' }, LOGO, main);
    expect(r.graph).toBe(
      '[1:v]format=rgba[format_0];[0:v][format_0]overlay=x=main_w-overlay_w-10:y=(main_h-overlay_h)/2:eof_action=repeat:format=auto[overlay_1]',
    );
    expect(r.video).toBe('overlay_1');
  });
  it('passes the main audio alone when no video is read downstream', () => {
    const p = overlay.params.parse({});
    const inputs = [{ audio: '0:a', meta: MAIN }, { meta: LOGO }];
    expect(overlay.filter(p, { inputs, meta: MAIN, label: labeller() })).toEqual({ nodes: [], audio: '0:a' });
  });
});
