import { describe, expect, it } from 'vitest';
import { buildArgs } from '../ffmpeg/args.js';
import { chooseEncoders, knownEncoderNames } from '../ffmpeg/encoders.js';
import type { StreamMeta } from '../spec/media-info.js';
import { planJob } from './plan.js';
import { validateJobSpec } from './validate.js';

const HD: StreamMeta = {
  duration: 60,
  video: { width: 1920, height: 1080, fps: { num: 30, den: 1 }, pixFmt: 'yuv420p', codec: 'h264' },
  audio: { sampleRate: 48000, channels: 2, codec: 'aac' },
};
const SONG: StreamMeta = {
  duration: 200,
  video: null,
  audio: { sampleRate: 44100, channels: 2, codec: 'mp3' },
};
const encoders = chooseEncoders(new Set(knownEncoderNames()));

function plan(spec: unknown, metas: Record<string, StreamMeta>) {
  const v = validateJobSpec(spec);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  const inputs = new Map(v.value.spec.inputs.map((i) => [i.id, `/media/${i.source}`]));
  const outputs = v.value.spec.outputs.map((o) => `/media/${o.destination}`);
  return planJob(v.value, new Map(Object.entries(metas)), { inputs, outputs });
}

describe('planJob', () => {
  it('propagates metadata and compiles the DESIGN example to exact argv', () => {
    const r = plan(
      {
        inputs: [{ id: 'video', source: 'in.mkv' }],
        operations: [
          { op: 'trim', input: 'video', output: 'clip', params: { start: '00:00:10', duration: '00:00:30' } },
          { op: 'scale', input: 'clip', output: 'small', params: { width: 1280, height: 720 } },
        ],
        outputs: [
          {
            id: 'small',
            destination: 'out/clip.mp4',
            codec: {
              video: { codec: 'h264', crf: 23, preset: 'fast' },
              audio: { codec: 'aac', bitrate: '128k' },
            },
          },
        ],
      },
      { video: HD },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.nodes.map((n) => [n.id, n.meta.duration, n.meta.video?.width])).toEqual([
      ['video', 60, 1920],
      ['clip', 30, 1920],
      ['small', 30, 1280],
    ]);
    expect(r.plan.tasks).toHaveLength(1);
    expect(buildArgs(r.plan.tasks[0]!, encoders)).toEqual([
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-progress',
      'pipe:1',
      '-y',
      '-protocol_whitelist',
      'file',
      '-format_whitelist',
      expect.stringContaining('mov,mp4,m4a'),
      '-i',
      'file:/media/in.mkv',
      '-filter_complex',
      '[0:V:0]trim=start=10:duration=30[trim_0];[trim_0]setpts=PTS-STARTPTS[setpts_1];[0:a:0]atrim=start=10:duration=30[atrim_2];[atrim_2]asetpts=PTS-STARTPTS[asetpts_3];[setpts_1]scale=w=1280:h=720:flags=bicubic[scale_4];[scale_4]setsar=1[setsar_5]',
      '-map',
      '[setsar_5]',
      '-map',
      '[asetpts_3]',
      '-c:v',
      'libx264',
      '-preset',
      'fast',
      '-crf',
      '23',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128000',
      '-map_chapters',
      '-1',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      'file:/media/out/clip.mp4',
    ]);
    expect(r.plan.estimate.media_seconds).toBe(30);
    expect(r.plan.estimate.cpu_seconds).toBeGreaterThan(0);
    expect(r.plan.estimate.output_bytes).toBeGreaterThan((128_000 / 8) * 30);
  });

  it('puts a fan-out in one task with split, and writes the input directly where asked', () => {
    const r = plan(
      {
        inputs: [{ id: 'src', source: 'in.mp4' }],
        operations: [
          { op: 'scale', input: 'src', output: 'hd', params: { height: 720 } },
          { op: 'scale', input: 'src', output: 'sd', params: { height: 480 } },
        ],
        outputs: [
          { id: 'hd', destination: 'hd.mp4' },
          { id: 'sd', destination: 'sd.webm' },
          { id: 'src', destination: 'audio.mp3' },
        ],
      },
      { src: HD },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.plan.tasks).toHaveLength(1);
    const args = buildArgs(r.plan.tasks[0]!, encoders);
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('[0:V:0]split=2[src_v_0][src_v_1]');
    expect(graph).toContain('[0:a:0]asplit=2');
    expect(args.join(' ')).toContain('-map 0:a:0 -c:a libmp3lame -b:a 192000 -f mp3 file:/media/audio.mp3');
    expect(
      r.plan.outputs.map((o) => [
        o.format,
        o.video?.codec ?? null,
        o.audio?.codec ?? null,
        o.expect.video?.width ?? null,
      ]),
    ).toEqual([
      ['mp4', 'h264', 'aac', 1280],
      ['webm', 'vp9', 'opus', 854],
      ['mp3', null, 'mp3', null],
    ]);
  });

  it('maps a stream no filter touched as the input stream, not as a label', () => {
    const r = plan(
      {
        inputs: [{ id: 'in', source: 'in.mp4' }],
        operations: [{ op: 'scale', input: 'in', output: 's', params: { height: 480 } }],
        outputs: [{ id: 's', destination: 's.mp4' }],
      },
      { in: HD },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const args = buildArgs(r.plan.tasks[0]!, encoders);
    expect(args.filter((_, k) => args[k - 1] === '-map')).toEqual(['[setsar_1]', '0:a:0']);
  });

  it('makes independent parts separate tasks', () => {
    const r = plan(
      {
        inputs: [
          { id: 'a', source: 'a.mp4' },
          { id: 'b', source: 'b.mp3' },
        ],
        outputs: [
          { id: 'a', destination: 'a.mkv' },
          { id: 'b', destination: 'b.flac' },
        ],
      },
      { a: HD, b: SONG },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.plan.tasks.map((t) => [t.id, t.inputs.map((i) => i.id), t.requirements.codecs])).toEqual([
      ['t0', ['a'], ['aac', 'h264']],
      ['t1', ['b'], ['flac']],
    ]);
  });

  it('refuses media that does not fit, at the right path', () => {
    const r = plan(
      {
        inputs: [{ id: 'song', source: 'a.mp3' }],
        operations: [{ op: 'scale', input: 'song', output: 's', params: { width: 100 } }],
        outputs: [{ id: 's', destination: 's.mp4' }],
      },
      { song: SONG },
    );
    expect(r.ok === false && r.issues).toEqual([
      {
        path: 'operations[0].input',
        code: 'incompatible_input',
        message: 'scale needs video, and this has none ("song")',
      },
    ]);
  });

  it.each([
    [
      { id: 'v', destination: 'v.webm', codec: { video: { codec: 'h264' } } },
      'outputs[0].codec.video.codec',
      'incompatible_codec',
    ],
    [{ id: 'v', destination: 'v.xyz' }, 'outputs[0].destination', 'invalid_value'],
    [{ id: 'v', destination: 'v.jpg' }, 'outputs[0].id', 'incompatible_input'],
    [
      { id: 'v', destination: 'v.mp4', codec: { video: { codec: 'h264', crf: 60 } } },
      'outputs[0].codec.video.crf',
      'out_of_range',
    ],
  ])('output %j → %s', (output, path, code) => {
    const r = plan({ inputs: [{ id: 'v', source: 'v.mov' }], outputs: [output] }, { v: HD });
    expect(r.ok === false && r.issues).toContainEqual(expect.objectContaining({ path, code }));
  });

  it('refuses odd frame sizes for 4:2:0 encodes', () => {
    const r = plan(
      { inputs: [{ id: 'v', source: 'v.mov' }], outputs: [{ id: 'v', destination: 'v.mp4' }] },
      { v: { ...HD, video: { ...HD.video!, width: 321, height: 240 } } },
    );
    expect(r.ok === false && r.issues[0]!.message).toMatch(/needs even width and height.*321x240/);
  });

  it('refuses copy after an operation', () => {
    const r = plan(
      {
        inputs: [{ id: 'v', source: 'v.mov' }],
        operations: [{ op: 'trim', input: 'v', output: 't', params: { duration: 5 } }],
        outputs: [{ id: 't', destination: 't.mp4', codec: { video: 'copy' } }],
      },
      { v: HD },
    );
    expect(r.ok === false && r.issues[0]!.code).toBe('incompatible_codec');
  });

  it('adds a measure task before a two-pass loudnorm', () => {
    const r = plan(
      {
        inputs: [{ id: 's', source: 's.mp3' }],
        operations: [{ op: 'loudnorm', input: 's', output: 'n', params: { two_pass: true } }],
        outputs: [{ id: 'n', destination: 'n.m4a' }],
      },
      { s: SONG },
    );
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.plan.tasks.map((t) => [t.id, t.kind, t.deps, t.analysis_from])).toEqual([
      ['t0-m0', 'measure', [], {}],
      ['t0', 'transcode', ['t0-m0'], { n: 't0-m0' }],
    ]);
    const measure = buildArgs(r.plan.tasks[0]!, encoders);
    expect(measure.slice(-6)).toEqual([
      expect.stringContaining('loudnorm=i=-23:tp=-1:lra=7:print_format=json'),
      '-map',
      expect.stringMatching(/^\[\w+\]$/),
      '-f',
      'null',
      '-',
    ]);
  });
});
