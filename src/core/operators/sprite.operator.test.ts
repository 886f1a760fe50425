import { describe, expect, it } from 'vitest';
import { labeller, renderGraph } from '../ffmpeg/filtergraph.js';
import { toIssues } from '../spec/issues.js';
import type { StreamMeta } from '../spec/media-info.js';
import { sprite, spriteLayout, spriteVtt, spriteVttFor } from './sprite.operator.js';

const SRC: StreamMeta = {
  duration: 12,
  video: { width: 320, height: 240, fps: { num: 25, den: 1 } },
  audio: { sampleRate: 44100, channels: 1 },
};
const WIDE: StreamMeta = {
  duration: 95.028,
  video: { width: 640, height: 360, fps: { num: 30000, den: 1001 } },
  audio: null,
};
const FILM: StreamMeta = { ...WIDE, duration: 7200 };
const issues = (raw: unknown) => {
  const r = sprite.params.safeParse(raw, { reportInput: true });
  return r.success ? [] : toIssues(r.error).map((i) => `${i.path}:${i.code}`);
};
const parse = (raw: unknown) => sprite.params.parse(raw);
const render = (raw: unknown, src = SRC) => {
  const p = parse(raw);
  const inputs = [
    { ...(src.video ? { video: '0:v' } : {}), ...(src.audio ? { audio: '0:a' } : {}), meta: src },
  ];
  const r = sprite.filter(p, { inputs, meta: sprite.output(p, [src]), label: labeller() });
  return { ...r, graph: renderGraph(r.nodes) };
};

describe('sprite params', () => {
  it.each([
    [{}, { interval: 10, columns: 5, width: 160 }],
    [
      { interval: '00:00:02.5', columns: 20, width: 1024 },
      { interval: 2.5, columns: 20, width: 1024 },
    ],
  ])('reads %j', (raw, want) => expect(parse(raw)).toEqual(want));

  it.each([
    [{ interval: 0 }, ['interval:out_of_range']],
    [{ interval: -10 }, ['interval:out_of_range']],
    [{ interval: 1e12 }, ['interval:out_of_range']],
    [{ columns: 0 }, ['columns:out_of_range']],
    [{ columns: 21 }, ['columns:out_of_range']],
    [{ columns: 2.5 }, ['columns:invalid_type']],
    [{ width: 15 }, ['width:out_of_range']],
    [{ width: 1025 }, ['width:out_of_range']],
    [{ width: Number.POSITIVE_INFINITY }, ['width:invalid_type']],
    [{ rows: 3 }, ['rows:unknown_key']],
  ])('rejects %j', (raw, want) => expect(issues(raw)).toEqual(want));
});

describe('sprite layout and output', () => {
  // FFmpeg 5.1 gave these sheets: 320x120, 800x360, 480x816, 270x350 (one picture each).
  it.each([
    [{}, SRC, { count: 2, columns: 2, rows: 1, tileWidth: 160, tileHeight: 120, width: 320, height: 120 }],
    [
      { interval: 1 },
      SRC,
      { count: 12, columns: 5, rows: 3, tileWidth: 160, tileHeight: 120, width: 800, height: 360 },
    ],
    [
      { interval: 2, columns: 4, width: 120 },
      WIDE,
      { count: 48, columns: 4, rows: 12, tileWidth: 120, tileHeight: 68, width: 480, height: 816 },
    ],
    [
      { interval: 5, columns: 3, width: 90 },
      WIDE,
      { count: 20, columns: 3, rows: 7, tileWidth: 90, tileHeight: 50, width: 270, height: 350 },
    ],
    [
      {},
      { ...SRC, duration: null },
      { count: 1, columns: 1, rows: 1, tileWidth: 160, tileHeight: 120, width: 160, height: 120 },
    ],
  ])('%j', (raw, src, want) => expect(spriteLayout(parse(raw), src)).toEqual(want));

  it('is one still picture the size of the sheet, video only', () => {
    expect(sprite.output(parse({ interval: 1 }), [SRC])).toEqual({
      duration: null,
      video: { ...SRC.video, width: 800, height: 360 },
      audio: null,
      still: true,
      frames: 1,
    });
  });

  it.each([
    [{}, SRC, []],
    [{ interval: 10, columns: 5 }, FILM, []],
    [
      { interval: 1, columns: 5 },
      FILM,
      [
        'the sprite sheet would be 800×129600 px (7200 tiles in 5 columns × 1440 rows), more than FFmpeg can hold in one picture (16384 px a side): raise interval or columns, or lower width',
      ],
    ],
    [
      { interval: 1, columns: 20, width: 1024 },
      FILM,
      [
        'the sprite sheet would be 20480×207360 px (7200 tiles in 20 columns × 360 rows), wider than 16384 px: lower columns or width',
      ],
    ],
    // 16384 a side is not enough: FFmpeg refuses 16384×16384 (8·(w+128)·(h+128) must stay under INT_MAX).
    [
      { interval: 1, columns: 16, width: 1024 },
      { ...FILM, duration: 464, video: { width: 1024, height: 576, fps: { num: 25, den: 1 } } },
      [
        'the sprite sheet would be 16384×16704 px (464 tiles in 16 columns × 29 rows), more than FFmpeg can hold in one picture (16384 px a side): raise interval or columns, or lower width',
      ],
    ],
    [
      { interval: 1, columns: 16, width: 1024 },
      { ...FILM, duration: 448, video: { width: 1024, height: 576, fps: { num: 25, den: 1 } } },
      [],
    ],
    [{}, { ...SRC, video: null }, ['sprite needs an input with video']],
  ])('checks %j', (raw, src, want) => expect(sprite.check!(parse(raw), [src])).toEqual(want));

  it('renders fps, a tile cap, scale and tile', () => {
    const r = render({ interval: 1 });
    expect(r.graph).toBe(
      '[0:v]fps=fps=1/1:round=up:eof_action=pass[fps_0];[fps_0]trim=end_frame=12[trim_1];' +
        '[trim_1]scale=w=160:h=120[scale_2];[scale_2]setsar=1[setsar_3];[setsar_3]tile=layout=5x3[tile_4]',
    );
    expect(r).toEqual({ nodes: r.nodes, graph: r.graph, video: 'tile_4' });
    expect(render({ interval: 2.5, columns: 4, width: 120 }, WIDE).graph).toBe(
      '[0:v]fps=fps=1/2.5:round=up:eof_action=pass[fps_0];[fps_0]trim=end_frame=39[trim_1];' +
        '[trim_1]scale=w=120:h=68[scale_2];[scale_2]setsar=1[setsar_3];[setsar_3]tile=layout=4x10[tile_4]',
    );
  });
});

describe('spriteVtt', () => {
  it('writes one cue per tile, the last ending at the duration', () => {
    const vtt = spriteVtt({
      ...spriteLayout(parse({ interval: 5, columns: 2 }), SRC),
      interval: 5,
      duration: 12,
      imageUrl: 'sprite.jpg',
    });
    expect(vtt).toBe(
      [
        'WEBVTT',
        '',
        '00:00:00.000 --> 00:00:05.000',
        'sprite.jpg#xywh=0,0,160,120',
        '',
        '00:00:05.000 --> 00:00:10.000',
        'sprite.jpg#xywh=160,0,160,120',
        '',
        '00:00:10.000 --> 00:00:12.000',
        'sprite.jpg#xywh=0,120,160,120',
        '',
      ].join('\n'),
    );
  });

  it('counts hours past 99 minutes and ends at count × interval without a duration', () => {
    const vtt = spriteVtt({
      count: 2,
      interval: 3725.5,
      duration: null,
      columns: 1,
      tileWidth: 90,
      tileHeight: 50,
      imageUrl: 'https://cdn.example/s.webp',
    });
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:00.000 --> 01:02:05.500\nhttps://cdn.example/s.webp#xywh=0,0,90,50\n\n' +
        '01:02:05.500 --> 02:04:11.000\nhttps://cdn.example/s.webp#xywh=0,50,90,50\n',
    );
  });

  it('follows the plan: params as stored, the input meta, the image name', () => {
    const vtt = spriteVttFor({ interval: 10 }, SRC, 'sheet.jpg');
    expect(vtt).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:10.000\nsheet.jpg#xywh=0,0,160,120\n\n' +
        '00:00:10.000 --> 00:00:12.000\nsheet.jpg#xywh=160,0,160,120\n',
    );
  });

  it.each(['a\nb.jpg', 'x-->y.jpg'])('refuses an image URL that would break the track: %j', (imageUrl) => {
    expect(() =>
      spriteVtt({ count: 1, interval: 1, duration: 1, columns: 1, tileWidth: 16, tileHeight: 16, imageUrl }),
    ).toThrow(/imageUrl/);
  });
});
