/**
 * Is a finished file what the plan said it would be? FFmpeg can exit 0 after a failed write
 * (a full disk truncates the file), so every output is probed and compared before it replaces
 * anything: expected streams, frame size, and a duration within a tolerance.
 */
import { type MediaInfo, mainAudio, mainVideo, type StreamMeta } from './media-info.js';
import { rationalToNumber } from './types.js';

/** Allowed duration difference: encoders pad audio to whole frames and round to the timebase. */
export function durationTolerance(expected: number, meta: StreamMeta): number {
  const frame = meta.video ? 1 / rationalToNumber(meta.video.fps) : 0;
  return Math.max(0.25, 3 * frame, expected * 0.02);
}

/** Problems found, each a sentence; empty when the output is as expected. */
export function checkOutput(expect: StreamMeta, info: MediaInfo): string[] {
  const problems: string[] = [];
  const v = mainVideo(info) ?? info.streams.find((s) => s.type === 'video');
  const a = mainAudio(info);
  if (expect.video && !v) problems.push('has no video stream');
  if (!expect.video && v && !expect.still) problems.push('has an unexpected video stream');
  if (expect.audio && !a) problems.push('has no audio stream');
  if (!expect.audio && a) problems.push('has an unexpected audio stream');
  if (expect.video && v) {
    // A copied rotated stream keeps its coded size and its display matrix: compare what is shown.
    const quarter = v.rotation !== undefined && Math.abs(v.rotation) % 180 === 90;
    const [w, h] = quarter ? [v.height, v.width] : [v.width, v.height];
    if (w !== expect.video.width || h !== expect.video.height)
      problems.push(`is ${w}x${h}, expected ${expect.video.width}x${expect.video.height}`);
    if (expect.video.codec && v.codec !== expect.video.codec)
      problems.push(`holds ${v.codec} video, expected ${expect.video.codec}`);
  }
  if (expect.audio && a) {
    if (a.channels !== undefined && a.channels !== expect.audio.channels)
      problems.push(`has ${a.channels} audio channels, expected ${expect.audio.channels}`);
    if (expect.audio.codec && a.codec !== expect.audio.codec)
      problems.push(`holds ${a.codec} audio, expected ${expect.audio.codec}`);
  }
  if (expect.duration !== null && expect.duration > 0) {
    const got = info.format.duration ?? v?.duration ?? a?.duration ?? null;
    const tol = durationTolerance(expect.duration, expect);
    if (got === null) problems.push('has no duration (truncated?)');
    else if (Math.abs(got - expect.duration) > tol)
      problems.push(
        `lasts ${got.toFixed(3)} s, expected ${expect.duration.toFixed(3)} s (±${tol.toFixed(2)})`,
      );
  }
  return problems;
}
