/**
 * Which probed inputs we accept. Demuxers are allow-listed: playlists and lists (HLS, concat,
 * DASH, IMF, ...) can make FFmpeg open other files, so they are refused, and the same list is
 * passed to FFmpeg as `-format_whitelist` so it refuses them too, whatever the probe said.
 */
import { AppError } from '../errors.js';
import { type MediaInfo, mainAudio, mainVideo } from './media-info.js';

/**
 * Demuxers of ordinary media files: containers, elementary streams and single pictures. Not
 * image2 (it expands `%d` in a name into a sequence of other files) nor svg (it can link images).
 */
export const ALLOWED_DEMUXERS = [
  'mov',
  'mp4',
  'm4a',
  '3gp',
  '3g2',
  'mj2',
  'matroska',
  'webm',
  'avi',
  'mpegts',
  'mpeg',
  'flv',
  'ogg',
  'mp3',
  'wav',
  'flac',
  'aac',
  'ac3',
  'eac3',
  'aiff',
  'caf',
  'asf',
  'w64',
  'dts',
  'truehd',
  'amr',
  'mxf',
  'dv',
  'nut',
  'ivf',
  'wv',
  'ape',
  'm4v',
  'h264',
  'hevc',
  'mpegvideo',
  'yuv4mpegpipe',
  'png_pipe',
  'jpeg_pipe',
  'webp_pipe',
  'bmp_pipe',
  'tiff_pipe',
  'gif',
  'rm',
  'oga',
  'loas',
  'latm',
] as const;

export const FORMAT_WHITELIST = ALLOWED_DEMUXERS.join(',');

export interface AdmissionLimits {
  maxPixels: number;
  maxSeconds: number;
}

/** Throws the documented error for an input we will not process; returns nothing when it is fine. */
export function admitInput(info: MediaInfo, where: string, limits: AdmissionLimits): void {
  const names = info.format.name.split(',');
  if (!names.some((n) => (ALLOWED_DEMUXERS as readonly string[]).includes(n))) {
    throw new AppError(
      'input_not_allowed',
      `${where}: ${info.format.name} inputs are refused (playlists and lists that point at other files are never read)`,
    );
  }
  const v = mainVideo(info);
  const a = mainAudio(info);
  if (!v && !a) throw new AppError('input_not_media', `${where}: no audio or video stream`);
  for (const s of info.streams) {
    if (s.type !== 'video' || !s.width || !s.height) continue;
    if (s.width * s.height > limits.maxPixels) {
      throw new AppError(
        'input_too_large',
        `${where}: ${s.width}x${s.height} is more than the ${limits.maxPixels} pixel limit`,
      );
    }
  }
  if (info.format.duration !== null && info.format.duration > limits.maxSeconds) {
    throw new AppError(
      'input_too_large',
      `${where}: ${info.format.duration.toFixed(0)} s is longer than the ${limits.maxSeconds} s limit`,
    );
  }
}

const PICTURE_DEMUXERS: Readonly<Record<string, string>> = {
  jpg: 'jpeg_pipe',
  jpeg: 'jpeg_pipe',
  png: 'png_pipe',
  webp: 'webp_pipe',
  bmp: 'bmp_pipe',
  tif: 'tiff_pipe',
  tiff: 'tiff_pipe',
};

/**
 * The demuxer to name for a picture file. Left to guess, FFmpeg scores image2 (refused: it
 * expands `%d`) above jpeg_pipe for most JPEGs by the extension alone, so pictures are opened
 * with their own pipe demuxer by name, in the probe and in FFmpeg alike.
 */
export function pictureDemuxer(path: string): string | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? (PICTURE_DEMUXERS[base.slice(dot + 1).toLowerCase()] ?? null) : null;
}
