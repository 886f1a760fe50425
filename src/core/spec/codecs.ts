/**
 * Abstract codecs and containers. Users name what they want (h264, aac); the worker picks the
 * encoder it has (libx264, h264_nvenc, ...). FFmpeg encoder names are accepted as aliases so
 * documents written for the pipeline seed keep working.
 */
export const VIDEO_CODECS = ['h264', 'hevc', 'av1', 'vp9', 'copy', 'none'] as const;
export const AUDIO_CODECS = ['aac', 'opus', 'mp3', 'flac', 'vorbis', 'pcm', 'copy', 'none'] as const;
export type VideoCodec = (typeof VIDEO_CODECS)[number];
export type AudioCodec = (typeof AUDIO_CODECS)[number];

export const CODEC_ALIASES: Readonly<Record<string, VideoCodec | AudioCodec>> = {
  libx264: 'h264',
  'h.264': 'h264',
  avc: 'h264',
  libx265: 'hevc',
  h265: 'hevc',
  'h.265': 'hevc',
  'libvpx-vp9': 'vp9',
  'libaom-av1': 'av1',
  libsvtav1: 'av1',
  libdav1d: 'av1',
  libmp3lame: 'mp3',
  libopus: 'opus',
  libvorbis: 'vorbis',
  libfdk_aac: 'aac',
  pcm_s16le: 'pcm',
  wav: 'pcm',
};

export function canonicalCodec(name: string): string {
  const s = name.trim().toLowerCase();
  return CODEC_ALIASES[s] ?? s;
}

export const VIDEO_FORMATS = ['mp4', 'mkv', 'mov', 'webm'] as const;
export const AUDIO_FORMATS = ['mp3', 'm4a', 'wav', 'flac', 'ogg', 'opus'] as const;
export const IMAGE_FORMATS = ['jpg', 'png', 'webp'] as const;
export const OUTPUT_FORMATS = [...VIDEO_FORMATS, ...AUDIO_FORMATS, ...IMAGE_FORMATS] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ContainerRule {
  /** FFmpeg muxer name (always passed with -f, never guessed from a file name). */
  muxer: string;
  kind: 'video' | 'audio' | 'image';
  video: readonly VideoCodec[];
  audio: readonly AudioCodec[];
  defaultVideo: VideoCodec;
  defaultAudio: AudioCodec;
}

const MP4_AUDIO: readonly AudioCodec[] = ['aac', 'mp3', 'opus', 'flac', 'copy', 'none'];

/** Pictures: the image2 muxer, written with -update 1 (one file) or a %04d series we name. */
const PICTURE: ContainerRule = {
  muxer: 'image2',
  kind: 'image',
  video: ['none'],
  audio: ['none'],
  defaultVideo: 'none',
  defaultAudio: 'none',
};

export const CONTAINERS: Readonly<Record<OutputFormat, ContainerRule>> = {
  mp4: {
    muxer: 'mp4',
    kind: 'video',
    video: ['h264', 'hevc', 'av1', 'vp9', 'copy', 'none'],
    audio: MP4_AUDIO,
    defaultVideo: 'h264',
    defaultAudio: 'aac',
  },
  mov: {
    muxer: 'mov',
    kind: 'video',
    video: ['h264', 'hevc', 'copy', 'none'],
    audio: ['aac', 'mp3', 'pcm', 'flac', 'copy', 'none'],
    defaultVideo: 'h264',
    defaultAudio: 'aac',
  },
  mkv: {
    muxer: 'matroska',
    kind: 'video',
    video: ['h264', 'hevc', 'av1', 'vp9', 'copy', 'none'],
    audio: ['aac', 'opus', 'mp3', 'flac', 'vorbis', 'pcm', 'copy', 'none'],
    defaultVideo: 'h264',
    defaultAudio: 'aac',
  },
  webm: {
    muxer: 'webm',
    kind: 'video',
    video: ['vp9', 'av1', 'copy', 'none'],
    audio: ['opus', 'vorbis', 'copy', 'none'],
    defaultVideo: 'vp9',
    defaultAudio: 'opus',
  },
  mp3: {
    muxer: 'mp3',
    kind: 'audio',
    video: ['none'],
    audio: ['mp3', 'copy'],
    defaultVideo: 'none',
    defaultAudio: 'mp3',
  },
  m4a: {
    muxer: 'ipod',
    kind: 'audio',
    video: ['none'],
    audio: ['aac', 'copy'],
    defaultVideo: 'none',
    defaultAudio: 'aac',
  },
  wav: {
    muxer: 'wav',
    kind: 'audio',
    video: ['none'],
    audio: ['pcm'],
    defaultVideo: 'none',
    defaultAudio: 'pcm',
  },
  flac: {
    muxer: 'flac',
    kind: 'audio',
    video: ['none'],
    audio: ['flac', 'copy'],
    defaultVideo: 'none',
    defaultAudio: 'flac',
  },
  ogg: {
    muxer: 'ogg',
    kind: 'audio',
    video: ['none'],
    audio: ['vorbis', 'opus', 'flac', 'copy'],
    defaultVideo: 'none',
    defaultAudio: 'vorbis',
  },
  opus: {
    muxer: 'opus',
    kind: 'audio',
    video: ['none'],
    audio: ['opus', 'copy'],
    defaultVideo: 'none',
    defaultAudio: 'opus',
  },
  jpg: PICTURE,
  png: PICTURE,
  webp: PICTURE,
};

const EXTENSION_FORMATS: Readonly<Record<string, OutputFormat>> = {
  mp4: 'mp4',
  m4v: 'mp4',
  mkv: 'mkv',
  mov: 'mov',
  webm: 'webm',
  mp3: 'mp3',
  m4a: 'm4a',
  aac: 'm4a',
  wav: 'wav',
  flac: 'flac',
  ogg: 'ogg',
  oga: 'ogg',
  opus: 'opus',
  jpg: 'jpg',
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
};

/** The output format named by a destination's extension, or null when there is none we know. */
export function formatFromPath(path: string): OutputFormat | null {
  const base = path.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  return EXTENSION_FORMATS[base.slice(dot + 1).toLowerCase()] ?? null;
}

/** The image codec (FFmpeg encoder) for image outputs. */
export const IMAGE_ENCODERS: Readonly<Record<'jpg' | 'png' | 'webp', string>> = {
  jpg: 'mjpeg',
  png: 'png',
  webp: 'libwebp',
};
