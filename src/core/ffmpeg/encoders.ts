/**
 * The encoder registry: abstract codec → FFmpeg encoders in order of preference, each with its
 * own mapping of preset and quality to options. Hardware entries (nvenc, qsv, vaapi, videotoolbox,
 * amf, v4l2m2m) come first for their codec and are picked only where a worker allows hardware and
 * its prober proved them; the software encoders follow, as everybody's fallback.
 */
import type { AudioCodec, VideoCodec } from '../spec/codecs.js';
import type { ResolvedAudio, ResolvedVideo } from '../spec/task-spec.schema.js';
import { byPreset, cap, gop, rateTarget } from './encoder-options.js';
import { HARDWARE_VIDEO_ENCODERS } from './hardware-encoders.js';

export { DEFAULT_VAAPI_DEVICE } from './hardware-encoders.js';

export type PixelFormat = ResolvedVideo['pixel_format'];

export interface VideoEncoder {
  name: string;
  codec: VideoCodec;
  /** The hardware family (`nvenc`, `vaapi`, ...); null for a software encoder. */
  hardware: string | null;
  /** Options after `-c:v NAME`: preset, rate control, profile, GOP. */
  args(v: ResolvedVideo, fps: number): string[];
  /** Global options that open the device the encoder runs on (VAAPI's render node). */
  device?: readonly string[];
  /** The filter that moves frames into the device's memory; with it, no `-pix_fmt` is given. */
  upload?(pixelFormat: PixelFormat): string;
  /** The layout handed to the encoder for the one asked, when it takes another (QSV: nv12). */
  pixelFormat?(pixelFormat: PixelFormat): string;
}

export interface AudioEncoder {
  name: string;
  codec: AudioCodec;
  args(a: ResolvedAudio): string[];
}

/** Rate control shared by the CRF encoders: a bitrate target, CRF, or both (capped CRF). */
function rate(v: ResolvedVideo, defaultCrf: number, crfFlag = '-crf'): string[] {
  const t = rateTarget(v, defaultCrf);
  return [...(t.q !== undefined ? [crfFlag, String(t.q)] : ['-b:v', String(t.bitrate)]), ...cap(t)];
}

const SOFTWARE_VIDEO_ENCODERS: readonly VideoEncoder[] = [
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

/** Every video encoder, hardware first for each codec: the order chooseEncoders() prefers. */
export const VIDEO_ENCODERS: readonly VideoEncoder[] = [
  ...HARDWARE_VIDEO_ENCODERS,
  ...SOFTWARE_VIDEO_ENCODERS,
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

export interface ChooseOptions {
  /** Hardware encoders may be picked (the worker's `hardware` is not off, and its prober passed them). */
  hardware: boolean;
  /** Encoders that failed on this worker since the probe: skipped. Read at each pick, so a live set works. */
  unhealthy?: ReadonlySet<string>;
  /** The DRM render node VAAPI encoders open; default /dev/dri/renderD128. */
  vaapiDevice?: string;
}

/**
 * The first encoder for each codec that `available` lists: hardware first when allowed, and
 * never one marked unhealthy. `available` is what the worker trusts: for hardware, what passed
 * its probe, not merely what `ffmpeg -encoders` lists.
 */
export function chooseEncoders(
  available: ReadonlySet<string>,
  opts: ChooseOptions = { hardware: false },
): EncoderChoice {
  return {
    video: (codec) => {
      const e = VIDEO_ENCODERS.find(
        (e) =>
          e.codec === codec &&
          available.has(e.name) &&
          (opts.hardware || e.hardware === null) &&
          !opts.unhealthy?.has(e.name),
      );
      return e ? onDevice(e, opts.vaapiDevice) : null;
    },
    audio: (codec) => AUDIO_ENCODERS.find((e) => e.codec === codec && available.has(e.name)) ?? null,
  };
}

/** The encoder with its device opened at `vaapiDevice` (VAAPI only; the others find theirs). */
export function onDevice(e: VideoEncoder, vaapiDevice: string | undefined): VideoEncoder {
  return e.hardware === 'vaapi' && vaapiDevice ? { ...e, device: ['-vaapi_device', vaapiDevice] } : e;
}

export interface VideoEncodeArgs {
  /** Global options, before the inputs. */
  device: readonly string[];
  /** A filter the output's video must pass through last (onto the device), or null. */
  upload: string | null;
  /** `-c:v NAME`, the encoder's options, and `-pix_fmt` unless the frames are uploaded. */
  output: string[];
}

/** Everything one video output needs from its encoder: what buildArgs and the prober both use. */
export function videoEncodeArgs(e: VideoEncoder, v: ResolvedVideo, fps: number): VideoEncodeArgs {
  const upload = e.upload?.(v.pixel_format) ?? null;
  return {
    device: e.device ?? [],
    upload,
    output: [
      '-c:v',
      e.name,
      ...e.args(v, fps),
      // Uploaded frames are the device's own format: a -pix_fmt after hwupload cannot be met.
      ...(upload ? [] : ['-pix_fmt', e.pixelFormat?.(v.pixel_format) ?? v.pixel_format]),
    ],
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
