/**
 * The hardware video encoders, family by family: each maps our preset and quality knobs to its
 * own words (nvenc's p1..p7 and CQ, qsv's global_quality, vaapi's CQP, videotoolbox's -q:v, amf's
 * cqp), and says what else it needs around the encoder (VAAPI: a device and an upload filter).
 * None is tried here: a worker's prober test-encodes each before it may be chosen, and a failure
 * at task start falls back to software. The mappings follow FFmpeg 5.1–7's options.
 */
import type { VideoCodec } from '../spec/codecs.js';
import type { ResolvedVideo } from '../spec/task-spec.schema.js';
import {
  byPreset,
  cap,
  DEFAULT_CRF,
  gop,
  PRESET_INDEX,
  type RateTarget,
  rateTarget,
} from './encoder-options.js';
import type { PixelFormat, VideoEncoder } from './encoders.js';

export const DEFAULT_VAAPI_DEVICE = '/dev/dri/renderD128';

const target = (v: ResolvedVideo, codec: VideoCodec): RateTarget => rateTarget(v, DEFAULT_CRF[codec] ?? 23);
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(n)));
/** H.264/HEVC quantizers run 1..51; AV1's CRF scale is 0..63 and its hardware QP 0..255. */
const qp = (q: number, codec: VideoCodec) =>
  String(codec === 'av1' ? clamp((q * 255) / 63, 1, 255) : clamp(q, 1, 51));

const PROFILES: Partial<Record<VideoCodec, readonly string[]>> = {
  h264: ['baseline', 'main', 'high'],
  hevc: ['main', 'main10'],
};
/** `-profile:v` when the codec has that profile, under the family's name for it. */
function profile(
  v: ResolvedVideo,
  codec: VideoCodec,
  rename: Readonly<Record<string, string>> = {},
): string[] {
  const p = v.profile;
  return p && PROFILES[codec]?.includes(p) ? ['-profile:v', rename[p] ?? p] : [];
}
/** VAAPI and AMF know H.264's baseline only in its constrained form. */
const CONSTRAINED = { baseline: 'constrained_baseline' } as const;
/** Apple players want `hvc1` for HEVC in MP4, as libx265's entry asks too. */
const hevcTag = (codec: VideoCodec) => (codec === 'hevc' ? ['-tag:v', 'hvc1'] : []);
/** 10-bit 4:2:0 as the hardware takes it (semi-planar). */
const tenBit = (f: PixelFormat) => (f === 'yuv420p10le' ? 'p010le' : f);

interface Family {
  hardware: string;
  codecs: readonly VideoCodec[];
  args(v: ResolvedVideo, fps: number, codec: VideoCodec): string[];
  device?: readonly string[];
  upload?(pixelFormat: PixelFormat): string;
  pixelFormat?(pixelFormat: PixelFormat): string;
}

/** One entry per codec, named the way FFmpeg names them all: `h264_nvenc`, `hevc_vaapi`, `av1_qsv`. */
function family({ hardware, codecs, args, ...rest }: Family): VideoEncoder[] {
  return codecs.map((codec) => ({
    name: `${codec}_${hardware}`,
    codec,
    hardware,
    args: (v, fps) => args(v, fps, codec),
    ...rest,
  }));
}

const NVENC = family({
  hardware: 'nvenc',
  codecs: ['h264', 'hevc', 'av1'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    return [
      '-preset',
      byPreset(v.preset, ['p1', 'p1', 'p2', 'p3', 'p3', 'p4', 'p5', 'p6', 'p7']),
      '-rc',
      'vbr',
      // Constant quality is VBR with a CQ level and no average bitrate (NVENC's 2 Mb/s default would cap it).
      // CQ 0 means "automatic", so it starts at 1; AV1's runs to 63 like our CRF scale.
      ...(t.q !== undefined
        ? ['-cq', String(clamp(t.q, 1, codec === 'av1' ? 63 : 51)), '-b:v', '0']
        : ['-b:v', String(t.bitrate)]),
      ...cap(t),
      ...profile(v, codec),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
  pixelFormat: tenBit,
});

const QSV = family({
  hardware: 'qsv',
  codecs: ['h264', 'hevc', 'av1'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    const quality = t.q === undefined ? [] : ['-global_quality', String(clamp(t.q, 1, 51))];
    const rate =
      t.q === undefined
        ? ['-b:v', String(t.bitrate), ...cap(t)]
        : t.max === undefined
          ? quality // ICQ
          : // QVBR: quality under a cap. QSV reads "target = cap" as CBR, so the target sits below it.
            [...quality, '-b:v', String(Math.floor((t.max * 3) / 4)), ...cap(t)];
    return [
      '-preset',
      byPreset(v.preset, [
        'veryfast',
        'veryfast',
        'veryfast',
        'faster',
        'fast',
        'medium',
        'slow',
        'slower',
        'veryslow',
      ]),
      ...rate,
      ...profile(v, codec),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
  pixelFormat: (f) => (f === 'yuv420p' ? 'nv12' : tenBit(f)),
});

const VAAPI = family({
  hardware: 'vaapi',
  codecs: ['h264', 'hevc', 'av1'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    // Capped quality would be QVBR, which only some drivers have: a VBR at the cap works on all.
    const rate =
      t.q !== undefined && t.max === undefined
        ? ['-rc_mode', 'CQP', codec === 'av1' ? '-global_quality' : '-qp', qp(t.q, codec)]
        : ['-rc_mode', 'VBR', '-b:v', String(t.bitrate ?? t.max), ...cap(t)];
    return [
      // The driver's speed/quality trade-off (1 = best); a driver without one ignores it.
      '-compression_level',
      byPreset(v.preset, [7, 7, 6, 5, 4, 4, 3, 2, 1]),
      ...rate,
      ...profile(v, codec, CONSTRAINED),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
  device: ['-vaapi_device', DEFAULT_VAAPI_DEVICE],
  upload: (f) => `format=${f === 'yuv420p10le' ? 'p010' : 'nv12'},hwupload`,
});

const VIDEOTOOLBOX = family({
  hardware: 'videotoolbox',
  codecs: ['h264', 'hevc'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    return [
      // No presets: the fast ones ask for real-time encoding, the others take the default.
      ...(PRESET_INDEX[v.preset] <= PRESET_INDEX.veryfast ? ['-realtime', '1'] : []),
      // -q:v runs 1..100, higher is better: our CRF scale turned over.
      ...(t.q !== undefined
        ? ['-q:v', String(clamp(100 - (t.q * 99) / 51, 1, 100))]
        : ['-b:v', String(t.bitrate)]),
      ...cap(t),
      ...profile(v, codec),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
  pixelFormat: tenBit,
});

const AMF = family({
  hardware: 'amf',
  codecs: ['h264', 'hevc', 'av1'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    const q = t.q === undefined ? '' : qp(t.q, codec);
    const rate =
      t.q !== undefined && t.max === undefined
        ? ['-rc', 'cqp', '-qp_i', q, '-qp_p', q, ...(codec === 'h264' ? ['-qp_b', q] : [])]
        : t.max !== undefined
          ? // A peak: VBR under it (capped quality has no AMF mode: VBR at the cap).
            ['-rc', 'vbr_peak', '-b:v', String(t.bitrate ?? t.max), ...cap(t)]
          : ['-rc', 'vbr_latency', '-b:v', String(t.bitrate)];
    return [
      '-quality',
      byPreset(v.preset, [
        'speed',
        'speed',
        'speed',
        'speed',
        'balanced',
        'balanced',
        'quality',
        'quality',
        'quality',
      ]),
      ...rate,
      ...profile(v, codec, CONSTRAINED),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
});

const V4L2M2M = family({
  hardware: 'v4l2m2m',
  codecs: ['h264', 'hevc'],
  args: (v, fps, codec) => {
    const t = target(v, codec);
    return [
      // V4L2 has no quality mode: a pinned quantizer (min = max) is the nearest thing. It has no
      // presets and no peak rate either, so a cap is not passed on.
      ...(t.q !== undefined
        ? ['-qmin', qp(t.q, codec), '-qmax', qp(t.q, codec)]
        : ['-b:v', String(t.bitrate)]),
      ...(codec === 'h264' ? profile(v, codec) : []),
      ...gop(v, fps),
      ...hevcTag(codec),
    ];
  },
});

/** Preference among the families, after DESIGN.md: nvenc, qsv, vaapi, videotoolbox, then amf and v4l2m2m. */
export const HARDWARE_VIDEO_ENCODERS: readonly VideoEncoder[] = [
  ...NVENC,
  ...QSV,
  ...VAAPI,
  ...VIDEOTOOLBOX,
  ...AMF,
  ...V4L2M2M,
];
