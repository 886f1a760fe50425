/**
 * The words every encoder entry is made of: a preset's rank, the keyframe interval, and what the
 * task's quality knobs (crf, bitrate, max_bitrate, buffer_size) ask for, read once so that the
 * software and the hardware families agree on it.
 */
import type { VideoCodec } from '../spec/codecs.js';
import type { Preset } from '../spec/job-spec.schema.js';
import type { ResolvedVideo } from '../spec/task-spec.schema.js';

export const PRESET_INDEX: Record<Preset, number> = {
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
export const byPreset = (p: Preset, table: readonly (string | number)[]) => String(table[PRESET_INDEX[p]]);

export function gop(v: ResolvedVideo, fps: number): string[] {
  return v.keyframe_interval === undefined
    ? []
    : ['-g', String(Math.max(1, Math.round(v.keyframe_interval * fps)))];
}

/** What the quality knobs ask for, whatever an encoder calls it. */
export interface RateTarget {
  /** Constant quality on the CRF scale; undefined when a bitrate is the target. */
  q?: number;
  bitrate?: number;
  /** A peak: max_bitrate, or the bitrate given with a crf (capped CRF). */
  max?: number;
  buffer?: number;
}

/** A bitrate target, CRF, or both (capped CRF); CRF `defaultCrf` when neither is given. */
export function rateTarget(v: ResolvedVideo, defaultCrf: number): RateTarget {
  const quality = v.crf !== undefined || v.bitrate === undefined;
  const max = v.max_bitrate ?? (v.bitrate !== undefined && v.crf !== undefined ? v.bitrate : undefined);
  return {
    ...(quality ? { q: v.crf ?? defaultCrf } : { bitrate: v.bitrate! }),
    ...(max === undefined ? {} : { max, buffer: v.buffer_size ?? max * 2 }),
  };
}

export const cap = (t: RateTarget): string[] =>
  t.max === undefined ? [] : ['-maxrate', String(t.max), '-bufsize', String(t.buffer)];

/** Each codec's CRF when the task gives neither crf nor bitrate (the software encoders' defaults). */
export const DEFAULT_CRF: Readonly<Partial<Record<VideoCodec, number>>> = {
  h264: 23,
  hevc: 28,
  av1: 35,
  vp9: 32,
};
