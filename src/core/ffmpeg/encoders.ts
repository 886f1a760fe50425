/**
 * The encoder registry: abstract codec → FFmpeg encoders in order of preference, each with its
 * own mapping of preset and quality to options. Software only for now; hardware entries (nvenc,
 * qsv, vaapi, ...) join the same lists and are picked only where a worker has proved them.
 */
import type { AudioCodec, VideoCodec } from '../spec/codecs.js';
import type { Preset } from '../spec/job-spec.schema.js';
import type { ResolvedAudio, ResolvedVideo } from '../spec/task-spec.schema.js';

export interface VideoEncoder {
  name: string;
  codec: VideoCodec;
  hardware: string | null;
  args(v: ResolvedVideo, fps: number): string[];
}

export interface AudioEncoder {
  name: string;
  codec: AudioCodec;
  args(a: ResolvedAudio): string[];
}

const PRESET_INDEX: Record<Preset, number> = {
  ultrafast: 0,
  superfast: 1,
  veryfast: 2,
  faster: 3,
  fast: 4,
  medium: 5,
  slow: 6,
  slower: 7,
  veryslow: 8,
};
/** Pick from a table by the preset's rank (ultrafast … veryslow). */
const byPreset = (p: Preset, table: readonly (string | number)[]) => String(table[PRESET_INDEX[p]]);

/** Rate control shared by the CRF encoders: a bitrate target, CRF, or both (capped CRF). */
function rate(v: ResolvedVideo, defaultCrf: number, crfFlag = '-crf'): string[] {
  const out: string[] = [];
  if (v.crf !== undefined || v.bitrate === undefined) out.push(crfFlag, String(v.crf ?? defaultCrf));
  if (v.bitrate !== undefined && v.crf === undefined) out.push('-b:v', String(v.bitrate));
  const max = v.max_bitrate ?? (v.bitrate !== undefined && v.crf !== undefined ? v.bitrate : undefined);
  if (max !== undefined) out.push('-maxrate', String(max), '-bufsize', String(v.buffer_size ?? max * 2));
  return out;
}

function gop(v: ResolvedVideo, fps: number): string[] {
  return v.keyframe_interval === undefined
    ? []
    : ['-g', String(Math.max(1, Math.round(v.keyframe_interval * fps)))];
}

export const VIDEO_ENCODERS: readonly VideoEncoder[] = [
  {
    name: 'libx264',
    codec: 'h264',
    hardware: null,
    args: (v, fps) => [
      '-preset',
      v.preset,
      ...rate(v, 23),
      ...(v.profile && v.profile !== 'main10' ? ['-profile:v', v.profile] : []),
      ...gop(v, fps),
    ],
  },
  {
    name: 'libx265',
    codec: 'hevc',
    hardware: null,
    args: (v, fps) => [
      '-preset',
      v.preset,
      ...rate(v, 28),
      ...(v.profile === 'main10' || v.profile === 'main' ? ['-profile:v', v.profile] : []),
      ...gop(v, fps),
      '-tag:v',
      'hvc1',
      '-x265-params',
      'log-level=error',
    ],
  },
  {
    name: 'libsvtav1',
    codec: 'av1',
    hardware: null,
    args: (v, fps) => [
      '-preset',
      byPreset(v.preset, [12, 11, 10, 9, 8, 7, 5, 4, 2]),
      ...rate(v, 35),
      ...gop(v, fps),
    ],
  },
  {
    name: 'libaom-av1',
    codec: 'av1',
    hardware: null,
    args: (v, fps) => [
      // FFmpeg before 5 calls libaom experimental and refuses it without this.
      '-strict',
      'experimental',
      '-cpu-used',
      byPreset(v.preset, [8, 8, 7, 6, 6, 5, 4, 3, 2]),
      '-row-mt',
      '1',
      ...rate(v, 32),
      ...(v.bitrate === undefined ? ['-b:v', '0'] : []),
      ...gop(v, fps),
    ],
  },
  {
    name: 'libvpx-vp9',
    codec: 'vp9',
    hardware: null,
    args: (v, fps) => [
      '-deadline',
      v.preset === 'ultrafast' || v.preset === 'superfast' ? 'realtime' : 'good',
      '-cpu-used',
      byPreset(v.preset, [8, 7, 5, 4, 3, 2, 1, 1, 0]),
      '-row-mt',
      '1',
      ...rate(v, 32),
      ...(v.bitrate === undefined ? ['-b:v', '0'] : []),
      ...gop(v, fps),
    ],
  },
];

const bitrate = (a: ResolvedAudio, fallback: number) => ['-b:a', String(a.bitrate ?? fallback)];

export const AUDIO_ENCODERS: readonly AudioEncoder[] = [
  { name: 'aac', codec: 'aac', args: (a) => bitrate(a, 128_000) },
  { name: 'libopus', codec: 'opus', args: (a) => bitrate(a, 96_000) },
  { name: 'libmp3lame', codec: 'mp3', args: (a) => bitrate(a, 192_000) },
  {
    name: 'libvorbis',
    codec: 'vorbis',
    args: (a) => (a.bitrate === undefined ? ['-q:a', '4'] : bitrate(a, 0)),
  },
  { name: 'flac', codec: 'flac', args: () => [] },
  { name: 'pcm_s16le', codec: 'pcm', args: () => [] },
];

/** The encoders that will be used, chosen once per worker from what its FFmpeg has. */
export interface EncoderChoice {
  video(codec: VideoCodec): VideoEncoder | null;
  audio(codec: AudioCodec): AudioEncoder | null;
}

/** The first encoder for each codec that `available` lists (hardware ones only when allowed). */
export function chooseEncoders(
  available: ReadonlySet<string>,
  opts: { hardware: boolean } = { hardware: false },
): EncoderChoice {
  return {
    video: (codec) =>
      VIDEO_ENCODERS.find(
        (e) => e.codec === codec && available.has(e.name) && (opts.hardware || e.hardware === null),
      ) ?? null,
    audio: (codec) => AUDIO_ENCODERS.find((e) => e.codec === codec && available.has(e.name)) ?? null,
  };
}

/** Every encoder name the registry knows: what a worker probes for. */
export function knownEncoderNames(): string[] {
  return [
    ...VIDEO_ENCODERS.map((e) => e.name),
    ...AUDIO_ENCODERS.map((e) => e.name),
    'mjpeg',
    'png',
    'libwebp',
  ];
}
