import { z } from 'zod';
import { chain, escapeValue } from '../ffmpeg/filtergraph.js';
import type { StreamMeta, VideoMeta } from '../spec/media-info.js';
import {
  Duration,
  MAX_DIMENSION,
  type Rational,
  rationalToNumber,
  reduce,
  type Size,
  Timecode,
} from '../spec/types.js';
import type { Operator } from './operator.js';
import { scaledSize } from './scale.operator.js';

export const MAX_THUMBNAILS = 10_000;

export const ThumbnailParams = z
  .strictObject({
    at: Timecode.optional().meta({
      description: 'one picture at this time (the default, at 0, when neither is given)',
    }),
    every: Duration.optional().meta({ description: 'one picture every so many seconds, from the start' }),
    width: z
      .number()
      .int()
      .min(16)
      .max(MAX_DIMENSION)
      .optional()
      .meta({ description: 'aspect kept, even height' }),
  })
  .refine((p) => p.at === undefined || p.every === undefined, {
    message: 'give at or every, not both',
    path: ['every'],
    params: { issue: 'invalid_params' },
  });
export type ThumbnailParams = z.infer<typeof ThumbnailParams>;

/**
 * Pictures `fps=1/every:round=up:eof_action=pass` yields: one per started interval, ceil(duration/every),
 * the frame shown at 0, every, 2·every, ... (checked against FFmpeg 5.1: 12 s every 5 → 3, every 10 → 2).
 */
export function framesEvery(duration: number | null, every: number): number {
  return duration === null ? 1 : Math.max(1, Math.ceil(duration / every - 1e-9));
}

/**
 * Filters that sample one frame at each multiple of `every` seconds, `count` at most. fps repeats the last
 * frame up to the end-of-stream time it is told, and in FFmpeg 5.1 a trim upstream reports a later one when
 * the graph reads ahead (another branch buffering, as loudnorm does): the cap keeps the count exact.
 */
export function everyFilters(every: number, count: number) {
  return [
    { name: 'fps', args: { fps: `1/${escapeValue(every)}`, round: 'up', eof_action: 'pass' } },
    { name: 'trim', args: { end_frame: count } },
  ];
}

/** The frame size at `width` (aspect kept, even height, as scale's -2 gives it); unchanged without a width. */
export function sizeAtWidth(v: VideoMeta, width: number | undefined): Size {
  return width === undefined
    ? { width: v.width, height: v.height }
    : scaledSize(v, { width, fit: 'fill', algorithm: 'bicubic' });
}

/** The scale (and square pixels) that gives `width` with the aspect kept; none without a width. */
export function widthFilters(src: StreamMeta, width: number | undefined) {
  if (width === undefined) return [];
  const size = sizeAtWidth(src.video!, width);
  return [
    { name: 'scale', args: { w: size.width, h: size.height } },
    { name: 'setsar', args: ['1'] },
  ];
}

const perEvery = (every: number): Rational => reduce({ num: 1_000_000, den: Math.round(every * 1_000_000) });

export const thumbnail: Operator<ThumbnailParams> = {
  name: 'thumbnail',
  summary:
    'A still picture at `at` (default 0 s) or one every `every` seconds; width scales, keeping the aspect.',
  params: ThumbnailParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  check: (p, [src]) => {
    if (!src?.video) return ['thumbnail needs an input with video'];
    if (p.every !== undefined) {
      if (src.duration === null) return ['every needs a video with a known duration; use at'];
      const n = framesEvery(src.duration, p.every);
      return n > MAX_THUMBNAILS
        ? [`every ${p.every}s gives ${n} pictures, more than ${MAX_THUMBNAILS}: raise every`]
        : [];
    }
    const at = p.at ?? 0;
    // trim keeps frames from `at` on: past the last frame's start there is none left to take.
    const last = src.duration === null ? 0 : src.duration - 1 / rationalToNumber(src.video.fps);
    return at > Math.max(0, last) + 1e-6
      ? [`at ${at}s is past the last frame of the input (${Math.max(0, last).toFixed(3)}s)`]
      : [];
  },
  output: (p, [src]): StreamMeta => {
    const video = { ...src!.video!, ...sizeAtWidth(src!.video!, p.width) };
    if (p.every === undefined) return { duration: null, video, audio: null, still: true, frames: 1 };
    const frames = framesEvery(src!.duration, p.every);
    return { duration: frames * p.every, video: { ...video, fps: perEvery(p.every) }, audio: null, frames };
  },
  cost: (_p, [src]) => ({
    cpuPerSecond: 0.02,
    memoryMiB: Math.ceil(((src!.video?.width ?? 0) * (src!.video?.height ?? 0) * 4) / 2 ** 20) + 8,
  }),
  filter: (p, io) => {
    const src = io.inputs[0]!;
    if (src.video === undefined) throw new Error('thumbnail: the input has no video pad');
    const pick =
      p.every === undefined
        ? [
            { name: 'trim', args: { start: p.at ?? 0 } },
            // A second trim counts frames from its own input: exactly the first frame at or after `at`.
            { name: 'trim', args: { end_frame: 1 } },
            { name: 'setpts', args: ['PTS-STARTPTS'] },
          ]
        : everyFilters(p.every, framesEvery(src.meta.duration, p.every));
    const c = chain(src.video, [...pick, ...widthFilters(src.meta, p.width)], io.label);
    return { nodes: c.nodes, video: c.out };
  },
  chunkSafe: false,
};
