/**
 * What we know about media: MediaInfo is what ffprobe tells of a file; StreamMeta is what flows
 * along the planner's graph (an input's meta, then each operator's output meta).
 */
import type { Rational } from './types.js';

export type StreamType = 'video' | 'audio' | 'subtitle' | 'data' | 'attachment';

export interface StreamInfo {
  index: number;
  type: StreamType;
  codec: string;
  profile?: string;
  width?: number;
  height?: number;
  fps?: Rational;
  pixFmt?: string;
  sampleRate?: number;
  channels?: number;
  channelLayout?: string;
  bitRate?: number;
  duration?: number;
  frames?: number;
  /** Display rotation in degrees (from the display matrix); FFmpeg applies it when decoding. */
  rotation?: number;
  language?: string;
  /** Cover art inside an audio file: a picture, not a video track. */
  attachedPic?: boolean;
}

export interface MediaInfo {
  format: {
    /** Demuxer names as ffprobe reports them, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
    name: string;
    longName?: string;
    duration: number | null;
    size: number;
    bitRate: number | null;
  };
  streams: StreamInfo[];
}

export interface VideoMeta {
  /** Display size: after the rotation FFmpeg applies when decoding. */
  width: number;
  height: number;
  fps: Rational;
  pixFmt?: string;
  codec?: string;
  /** Display rotation of the coded stream, in degrees; it matters only when the stream is copied. */
  rotation?: number;
}

export interface AudioMeta {
  sampleRate: number;
  channels: number;
  codec?: string;
}

/** The media one graph node carries: a video part, an audio part, or both. */
export interface StreamMeta {
  /** Seconds; null for a still image. */
  duration: number | null;
  video: VideoMeta | null;
  audio: AudioMeta | null;
  /** A single picture (a watermark PNG, a thumbnail): video with no time. */
  still?: boolean;
  /** Frames this node yields when known and small (thumbnails, sprite sheets). */
  frames?: number;
}

export function mainVideo(info: MediaInfo): StreamInfo | undefined {
  return info.streams.find((s) => s.type === 'video' && !s.attachedPic);
}
export function mainAudio(info: MediaInfo): StreamInfo | undefined {
  return info.streams.find((s) => s.type === 'audio');
}

const STILL_CODECS = new Set(['png', 'mjpeg', 'webp', 'bmp', 'gif', 'tiff', 'jpegls']);
const IMAGE_DEMUXERS = /(^|,)(image2|png_pipe|jpeg_pipe|webp_pipe|bmp_pipe|tiff_pipe|gif)(,|$)/;

/** The meta an input node starts with. Rotation by ±90° swaps width and height, as FFmpeg autorotates. */
export function streamMetaOf(info: MediaInfo): StreamMeta {
  const v = mainVideo(info);
  const a = mainAudio(info);
  const still =
    !!v && STILL_CODECS.has(v.codec) && (IMAGE_DEMUXERS.test(info.format.name) || (v.frames ?? 0) <= 1) && !a;
  const quarter = v?.rotation !== undefined && Math.abs(v.rotation) % 180 === 90;
  return {
    duration: still ? null : (info.format.duration ?? v?.duration ?? a?.duration ?? null),
    video:
      v?.width && v.height
        ? {
            width: quarter ? v.height : v.width,
            height: quarter ? v.width : v.height,
            fps: v.fps ?? { num: 25, den: 1 },
            ...(v.pixFmt ? { pixFmt: v.pixFmt } : {}),
            codec: v.codec,
            ...(v.rotation ? { rotation: v.rotation } : {}),
          }
        : null,
    audio: a ? { sampleRate: a.sampleRate ?? 48_000, channels: a.channels ?? 2, codec: a.codec } : null,
    ...(still ? { still: true, frames: 1 } : {}),
  };
}
