import { describe, expect, it } from 'vitest';
import { planJob } from '../planner/plan.js';
import { validateJobSpec } from '../planner/validate.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { ResolvedVideo } from '../spec/task-spec.schema.js';
import { buildArgs } from './args.js';
import {
  chooseEncoders,
  knownEncoderNames,
  VIDEO_ENCODERS,
  type VideoEncoder,
  videoEncodeArgs,
} from './encoders.js';

const byName = (name: string): VideoEncoder => {
  const e = VIDEO_ENCODERS.find((x) => x.name === name);
  if (!e) throw new Error(`no ${name} in the registry`);
  return e;
};
const v = (codec: ResolvedVideo['codec'], more: Partial<ResolvedVideo> = {}): ResolvedVideo => ({
  codec,
  preset: 'medium',
  pixel_format: 'yuv420p',
  ...more,
});
/** What follows `-c:v NAME` for these settings (30 fps). */
const argv = (name: string, settings: ResolvedVideo) => videoEncodeArgs(byName(name), settings, 30).output;

describe('the registry', () => {
  it('has each hardware family for the codecs it encodes, named as FFmpeg names them', () => {
    const hardware = VIDEO_ENCODERS.filter((e) => e.hardware !== null).map((e) => e.name);
    expect(hardware).toEqual([
      'h264_nvenc',
      'hevc_nvenc',
      'av1_nvenc',
      'h264_qsv',
      'hevc_qsv',
      'av1_qsv',
      'h264_vaapi',
      'hevc_vaapi',
      'av1_vaapi',
      'h264_videotoolbox',
      'hevc_videotoolbox',
      'h264_amf',
      'hevc_amf',
      'av1_amf',
      'h264_v4l2m2m',
      'hevc_v4l2m2m',
    ]);
    for (const e of VIDEO_ENCODERS)
      expect(e.name.startsWith(`${e.codec}_`) || e.hardware === null).toBe(true);
    expect(knownEncoderNames()).toEqual(expect.arrayContaining(hardware));
  });

  it('lists hardware before software for every codec', () => {
    for (const codec of ['h264', 'hevc', 'av1'] as const) {
      const kinds = VIDEO_ENCODERS.filter((e) => e.codec === codec).map((e) => e.hardware !== null);
      expect(kinds.indexOf(false)).toBeGreaterThan(0);
      expect(kinds.slice(kinds.indexOf(false))).not.toContain(true);
    }
  });
});

describe('argv per encoder', () => {
  it.each([
    // software: unchanged by the hardware work
    ['libx264', v('h264'), ['-c:v', 'libx264', '-preset', 'medium', '-crf', '23', '-pix_fmt', 'yuv420p']],
    [
      'libx264',
      v('h264', { crf: 20, bitrate: 2_000_000 }),
      [
        '-c:v',
        'libx264',
        '-preset',
        'medium',
        '-crf',
        '20',
        '-maxrate',
        '2000000',
        '-bufsize',
        '4000000',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
    // nvenc: p1..p7, constant quality = VBR + CQ with no average bitrate
    [
      'h264_nvenc',
      v('h264'),
      ['-c:v', 'h264_nvenc', '-preset', 'p4', '-rc', 'vbr', '-cq', '23', '-b:v', '0', '-pix_fmt', 'yuv420p'],
    ],
    [
      'hevc_nvenc',
      v('hevc', {
        preset: 'veryslow',
        crf: 30,
        max_bitrate: 3_000_000,
        profile: 'main10',
        pixel_format: 'yuv420p10le',
      }),
      [
        '-c:v',
        'hevc_nvenc',
        '-preset',
        'p7',
        '-rc',
        'vbr',
        '-cq',
        '30',
        '-b:v',
        '0',
        '-maxrate',
        '3000000',
        '-bufsize',
        '6000000',
        '-profile:v',
        'main10',
        '-tag:v',
        'hvc1',
        '-pix_fmt',
        'p010le',
      ],
    ],
    [
      'av1_nvenc',
      v('av1', { preset: 'ultrafast', bitrate: 1_500_000, keyframe_interval: 2 }),
      [
        '-c:v',
        'av1_nvenc',
        '-preset',
        'p1',
        '-rc',
        'vbr',
        '-b:v',
        '1500000',
        '-g',
        '60',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
    // qsv: veryfast..veryslow, ICQ by global_quality, nv12 frames
    [
      'h264_qsv',
      v('h264', { preset: 'ultrafast', crf: 25, profile: 'high' }),
      [
        '-c:v',
        'h264_qsv',
        '-preset',
        'veryfast',
        '-global_quality',
        '25',
        '-profile:v',
        'high',
        '-pix_fmt',
        'nv12',
      ],
    ],
    [
      'hevc_qsv',
      v('hevc', { preset: 'slow', crf: 26, max_bitrate: 4_000_000 }),
      [
        '-c:v',
        'hevc_qsv',
        '-preset',
        'slow',
        '-global_quality',
        '26',
        '-b:v',
        '3000000',
        '-maxrate',
        '4000000',
        '-bufsize',
        '8000000',
        '-tag:v',
        'hvc1',
        '-pix_fmt',
        'nv12',
      ],
    ],
    // vaapi: CQP by -qp (AV1: global_quality on its 0..255 scale); no -pix_fmt: the frames are uploaded
    [
      'h264_vaapi',
      v('h264', { profile: 'baseline' }),
      [
        '-c:v',
        'h264_vaapi',
        '-compression_level',
        '4',
        '-rc_mode',
        'CQP',
        '-qp',
        '23',
        '-profile:v',
        'constrained_baseline',
      ],
    ],
    [
      'av1_vaapi',
      v('av1', { crf: 63 }),
      ['-c:v', 'av1_vaapi', '-compression_level', '4', '-rc_mode', 'CQP', '-global_quality', '255'],
    ],
    [
      'hevc_vaapi',
      v('hevc', { bitrate: 5_000_000, max_bitrate: 8_000_000, buffer_size: 10_000_000 }),
      [
        '-c:v',
        'hevc_vaapi',
        '-compression_level',
        '4',
        '-rc_mode',
        'VBR',
        '-b:v',
        '5000000',
        '-maxrate',
        '8000000',
        '-bufsize',
        '10000000',
        '-tag:v',
        'hvc1',
      ],
    ],
    // videotoolbox: realtime for the fast presets, -q:v 1..100 (higher is better)
    [
      'h264_videotoolbox',
      v('h264', { preset: 'veryfast', crf: 0 }),
      ['-c:v', 'h264_videotoolbox', '-realtime', '1', '-q:v', '100', '-pix_fmt', 'yuv420p'],
    ],
    [
      'h264_videotoolbox',
      v('h264', { crf: 51 }),
      ['-c:v', 'h264_videotoolbox', '-q:v', '1', '-pix_fmt', 'yuv420p'],
    ],
    [
      'hevc_videotoolbox',
      v('hevc', { bitrate: 2_500_000 }),
      ['-c:v', 'hevc_videotoolbox', '-b:v', '2500000', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p'],
    ],
    // amf: speed/balanced/quality, CQP on I, P (and B for H.264)
    [
      'h264_amf',
      v('h264', { preset: 'faster', crf: 21 }),
      [
        '-c:v',
        'h264_amf',
        '-quality',
        'speed',
        '-rc',
        'cqp',
        '-qp_i',
        '21',
        '-qp_p',
        '21',
        '-qp_b',
        '21',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
    [
      'hevc_amf',
      v('hevc', { preset: 'slower', bitrate: 3_000_000, max_bitrate: 4_500_000 }),
      [
        '-c:v',
        'hevc_amf',
        '-quality',
        'quality',
        '-rc',
        'vbr_peak',
        '-b:v',
        '3000000',
        '-maxrate',
        '4500000',
        '-bufsize',
        '9000000',
        '-tag:v',
        'hvc1',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
    [
      'av1_amf',
      v('av1', { bitrate: 1_000_000 }),
      [
        '-c:v',
        'av1_amf',
        '-quality',
        'balanced',
        '-rc',
        'vbr_latency',
        '-b:v',
        '1000000',
        '-pix_fmt',
        'yuv420p',
      ],
    ],
    // v4l2m2m: no presets, no quality mode: a pinned quantizer, or a bitrate
    [
      'h264_v4l2m2m',
      v('h264', { crf: 24, profile: 'main' }),
      ['-c:v', 'h264_v4l2m2m', '-qmin', '24', '-qmax', '24', '-profile:v', 'main', '-pix_fmt', 'yuv420p'],
    ],
    [
      'hevc_v4l2m2m',
      v('hevc', { bitrate: 900_000, keyframe_interval: 1 }),
      ['-c:v', 'hevc_v4l2m2m', '-b:v', '900000', '-g', '30', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p'],
    ],
  ] as const)('%s %j', (name, settings, expected) => {
    expect(argv(name, settings)).toEqual(expected);
  });

  it('opens the VAAPI device and uploads the frames in its 8- or 10-bit layout', () => {
    expect(videoEncodeArgs(byName('h264_vaapi'), v('h264'), 30)).toMatchObject({
      device: ['-vaapi_device', '/dev/dri/renderD128'],
      upload: 'format=nv12,hwupload',
    });
    expect(videoEncodeArgs(byName('hevc_vaapi'), v('hevc', { pixel_format: 'yuv420p10le' }), 30).upload).toBe(
      'format=p010,hwupload',
    );
    expect(videoEncodeArgs(byName('libx264'), v('h264'), 30)).toMatchObject({ device: [], upload: null });
  });
});

describe('chooseEncoders', () => {
  const all = new Set(['libx264', 'libx265', 'h264_nvenc', 'h264_vaapi', 'hevc_qsv', 'aac']);

  it('takes software only unless hardware is allowed', () => {
    expect(chooseEncoders(all).video('h264')?.name).toBe('libx264');
    expect(chooseEncoders(all, { hardware: false }).video('hevc')?.name).toBe('libx265');
  });

  it('prefers hardware when allowed, in the registry order', () => {
    const c = chooseEncoders(all, { hardware: true });
    expect(c.video('h264')?.name).toBe('h264_nvenc');
    expect(c.video('hevc')?.name).toBe('hevc_qsv');
    expect(c.video('av1')).toBeNull();
    expect(c.audio('aac')?.name).toBe('aac');
  });

  it('skips an unhealthy encoder, and reads the set at each pick', () => {
    const unhealthy = new Set<string>();
    const c = chooseEncoders(all, { hardware: true, unhealthy });
    expect(c.video('h264')?.name).toBe('h264_nvenc');
    unhealthy.add('h264_nvenc');
    expect(c.video('h264')?.name).toBe('h264_vaapi');
    unhealthy.add('h264_vaapi');
    expect(c.video('h264')?.name).toBe('libx264');
  });

  it('binds the VAAPI device the worker configured', () => {
    const c = chooseEncoders(new Set(['h264_vaapi']), { hardware: true, vaapiDevice: '/dev/dri/renderD129' });
    expect(c.video('h264')?.device).toEqual(['-vaapi_device', '/dev/dri/renderD129']);
  });
});

describe('buildArgs with a hardware encoder', () => {
  const HD: StreamMeta = {
    duration: 10,
    video: { width: 1920, height: 1080, fps: { num: 30, den: 1 }, pixFmt: 'yuv420p', codec: 'h264' },
    audio: { sampleRate: 48000, channels: 2, codec: 'aac' },
  };
  function task(operations: unknown[], output: string) {
    const r = validateJobSpec({
      inputs: [{ id: 'src', source: 'in.mp4' }],
      operations,
      outputs: [{ id: output, destination: 'out.mp4', codec: { video: { codec: 'h264' }, audio: 'aac' } }],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const p = planJob(r.value, new Map([['src', HD]]), {
      inputs: new Map([['src', '/media/in.mp4']]),
      outputs: ['/media/out.mp4'],
    });
    if (!p.ok) throw new Error(JSON.stringify(p.issues));
    return p.plan.tasks[0]!;
  }
  const vaapi = chooseEncoders(new Set(['h264_vaapi', 'libx264', 'aac']), { hardware: true });
  const nvenc = chooseEncoders(new Set(['h264_nvenc', 'libx264', 'aac']), { hardware: true });

  it('VAAPI after filters: the upload joins the same graph, the device comes before the inputs', () => {
    const args = buildArgs(
      task([{ op: 'scale', input: 'src', output: 'small', params: { height: 720 } }], 'small'),
      vaapi,
    );
    expect(args.slice(6, 8)).toEqual(['-vaapi_device', '/dev/dri/renderD128']);
    expect(args.indexOf('-vaapi_device')).toBeLessThan(args.indexOf('-i'));
    const graph = args[args.indexOf('-filter_complex') + 1]!;
    expect(graph).toMatch(/\[setsar_\d+\]format=nv12,hwupload\[hwup0\]$/);
    expect(args.filter((a) => a === '-filter_complex')).toHaveLength(1);
    expect(args.join(' ')).toContain('-map [hwup0] -map');
    expect(args).not.toContain('-pix_fmt');
  });

  it('VAAPI on an untouched input stream: a graph of its own', () => {
    const args = buildArgs(task([], 'src'), vaapi);
    expect(args[args.indexOf('-filter_complex') + 1]).toBe('[0:V:0]format=nv12,hwupload[hwup0]');
    expect(args.join(' ')).toContain('-map [hwup0] -map 0:a:0 -c:v h264_vaapi');
  });

  it('NVENC needs nothing around it: the same argv shape as software', () => {
    const hw = buildArgs(task([], 'src'), nvenc);
    const sw = buildArgs(task([], 'src'), chooseEncoders(new Set(['libx264', 'aac'])));
    expect(hw).not.toContain('-filter_complex');
    expect(hw.slice(0, hw.indexOf('-c:v'))).toEqual(sw.slice(0, sw.indexOf('-c:v')));
    expect(hw.join(' ')).toContain('-c:v h264_nvenc -preset p4 -rc vbr -cq 23 -b:v 0 -pix_fmt yuv420p');
  });
});
