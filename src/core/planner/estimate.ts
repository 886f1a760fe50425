/**
 * A rough resource estimate, in units a scheduler can compare: CPU-seconds (one core of a
 * 2020s desktop), peak memory, output bytes and media duration. Calibrated loosely on libx264
 * `medium` at 1080p30 ≈ 1.5 CPU-seconds per second of media; good for ordering and capacity,
 * not for promises.
 */
import { getOperator } from '../operators/registry.js';
import type { StreamMeta, VideoMeta } from '../spec/media-info.js';
import { rationalToNumber } from '../spec/types.js';
import { operationInputs } from './graph.js';
import type { ResolvedOutput } from './outputs.js';
import type { ValidSpec } from './validate.js';

export interface Estimate {
  /** Seconds of media produced (the longest output). */
  media_seconds: number;
  cpu_seconds: number;
  memory_mib: number;
  output_bytes: number;
}

const ENCODE_COST: Record<string, number> = { h264: 1.5, hevc: 5, vp9: 4, av1: 6, copy: 0.02 };
const PRESET_FACTOR: Record<string, number> = {
  ultrafast: 0.2,
  superfast: 0.3,
  veryfast: 0.45,
  faster: 0.7,
  fast: 0.85,
  medium: 1,
  slow: 1.8,
  slower: 3,
  veryslow: 6,
};
/** Typical bits per pixel per frame at default quality, to guess sizes when no bitrate is set. */
const BITS_PER_PIXEL: Record<string, number> = { h264: 0.08, hevc: 0.05, vp9: 0.05, av1: 0.04 };
const AUDIO_DEFAULT_BPS: Record<string, number> = {
  aac: 128_000,
  opus: 96_000,
  mp3: 192_000,
  vorbis: 128_000,
  flac: 700_000,
};

function pixelRate(v: VideoMeta): number {
  return (v.width * v.height * rationalToNumber(v.fps)) / (1920 * 1080 * 30);
}

export function estimate(
  valid: ValidSpec,
  meta: ReadonlyMap<string, StreamMeta>,
  outputs: ReadonlyArray<ResolvedOutput>,
): Estimate {
  let cpu = 0;
  let memory = 120;
  for (const input of valid.spec.inputs) {
    const m = meta.get(input.id)!;
    if (m.video && !m.still) cpu += 0.3 * pixelRate(m.video) * (m.duration ?? 0);
    if (m.audio) cpu += 0.01 * (m.duration ?? 0);
  }
  valid.spec.operations.forEach((op, i) => {
    const operator = getOperator(op.op)!;
    const ins = operationInputs(op).map((r) => meta.get(r)!);
    const cost = operator.cost?.(valid.params[i], ins) ?? { cpuPerSecond: 0.1, memoryMiB: 16 };
    cpu += cost.cpuPerSecond * (meta.get(op.output)?.duration ?? 0);
    memory += cost.memoryMiB;
  });
  let bytes = 0;
  let longest = 0;
  for (const o of outputs) {
    const e = o.expect;
    const seconds = e.duration ?? 0;
    longest = Math.max(longest, seconds);
    if (o.image && e.video) {
      bytes += e.video.width * e.video.height * 0.2 * o.image.frames;
      cpu += 0.01 * o.image.frames;
      continue;
    }
    if (o.video && e.video) {
      const pr = pixelRate(e.video);
      cpu += (ENCODE_COST[o.video.codec] ?? 2) * (PRESET_FACTOR[o.video.preset] ?? 1) * pr * seconds;
      memory += 80 + 200 * pr;
      const bps =
        o.video.bitrate ??
        (o.video.codec === 'copy'
          ? 8_000_000 * pr
          : (BITS_PER_PIXEL[o.video.codec] ?? 0.08) *
            e.video.width *
            e.video.height *
            rationalToNumber(e.video.fps));
      bytes += (bps * seconds) / 8;
    }
    if (o.audio && e.audio) {
      cpu += 0.02 * seconds;
      const bps =
        o.audio.bitrate ?? AUDIO_DEFAULT_BPS[o.audio.codec] ?? e.audio.sampleRate * e.audio.channels * 16;
      bytes += (bps * seconds) / 8;
    }
  }
  return {
    media_seconds: round(longest),
    cpu_seconds: round(cpu),
    memory_mib: Math.round(memory),
    output_bytes: Math.round(bytes),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
