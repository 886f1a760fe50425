import { z } from 'zod';
import { FrameRate, formatRational, rationalToNumber } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const FpsParams = z.strictObject({ fps: FrameRate });
export type FpsParams = z.infer<typeof FpsParams>;

export const fps: Operator<FpsParams> = {
  name: 'fps',
  summary: 'Change the frame rate by dropping or duplicating frames (duration unchanged).',
  params: FpsParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  output: (p, [src]) => ({ ...src!, video: { ...src!.video!, fps: p.fps } }),
  cost: (p, [src]) => {
    const v = src!.video!;
    return {
      cpuPerSecond: 0.01 * ((v.width * v.height) / (1920 * 1080)) * (rationalToNumber(p.fps) / 30),
      memoryMiB: 8,
    };
  },
  filter: (p, io) => mapStreams(io, [{ name: 'fps', args: { fps: formatRational(p.fps) } }], null),
  chunkSafe: true,
};
