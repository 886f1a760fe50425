/**
 * What encoders and containers really do with what we ask, so that a plan says what the file
 * will hold and a contradiction is refused before anything runs.
 */
import type { AudioCodec, VideoCodec } from '../spec/codecs.js';

/** The codec name ffprobe reports for what each abstract codec is written as. */
export const PROBED_VIDEO: Readonly<Partial<Record<VideoCodec, string>>> = {
  h264: 'h264',
  hevc: 'hevc',
  vp9: 'vp9',
  av1: 'av1',
};
export const PROBED_AUDIO: Readonly<Partial<Record<AudioCodec, string>>> = {
  aac: 'aac',
  opus: 'opus',
  mp3: 'mp3',
  flac: 'flac',
  vorbis: 'vorbis',
  pcm: 'pcm_s16le',
};

export const PROBED_IMAGE: Readonly<Record<string, string>> = { jpg: 'mjpeg', png: 'png', webp: 'webp' };

/** Most channels each encoder writes; libmp3lame is mono or stereo only. */
export const MAX_CHANNELS: Readonly<Partial<Record<AudioCodec, number>>> = {
  mp3: 2,
  aac: 8,
  opus: 8,
  vorbis: 8,
  flac: 8,
  pcm: 8,
};

/** Opus is always decoded at 48 kHz: a lower rate only narrows the encoder's bandwidth. */
export function writtenSampleRate(codec: AudioCodec, asked: number | undefined, input: number): number {
  if (codec === 'opus') return 48_000;
  return asked ?? input;
}

/** Why a profile cannot go with a pixel format (or codec), or null when it can. */
export function profileProblem(
  codec: VideoCodec,
  profile: string | undefined,
  pixelFormat: string,
): string | null {
  if (profile === undefined) return null;
  if (codec === 'h264') {
    if (profile === 'main10') return 'h264 has no main10 profile (use hevc for 10-bit, or leave profile out)';
    if (pixelFormat !== 'yuv420p')
      return `h264 ${profile} takes 8-bit 4:2:0 (yuv420p) only; leave profile out for ${pixelFormat}`;
    return null;
  }
  if (codec === 'hevc') {
    if (profile !== 'main' && profile !== 'main10') return `hevc has no ${profile} profile (main or main10)`;
    if (profile === 'main' && pixelFormat !== 'yuv420p')
      return `hevc main takes 8-bit 4:2:0 (yuv420p) only; use main10 or leave profile out`;
    if (profile === 'main10' && pixelFormat !== 'yuv420p' && pixelFormat !== 'yuv420p10le')
      return `hevc main10 takes yuv420p or yuv420p10le`;
    return null;
  }
  return `profile applies to h264 and hevc, not ${codec}`;
}

/** Containers whose FFmpeg 5.1 muxer writes no display rotation: a copied rotated stream would play sideways. */
export const DROPS_ROTATION: ReadonlySet<string> = new Set(['mkv', 'webm']);
