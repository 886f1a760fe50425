import { z } from 'zod';
import { reduce } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const DeinterlaceParams = z.strictObject({
  mode: z
    .enum(['frame', 'field'])
    .default('frame')
    .meta({ description: 'field: one frame per field, doubling the frame rate' }),
  parity: z
    .enum(['auto', 'tff', 'bff'])
    .default('auto')
    .meta({ description: 'field order; auto trusts the stream' }),
  deint: z
    .enum(['all', 'interlaced'])
    .default('all')
    .meta({ description: 'interlaced: only frames flagged as interlaced' }),
});
export type DeinterlaceParams = z.infer<typeof DeinterlaceParams>;

export const deinterlace: Operator<DeinterlaceParams> = {
  name: 'deinterlace',
  summary: 'Deinterlace with bwdif; field mode doubles the frame rate.',
  params: DeinterlaceParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  output: (p, [src]) => {
    const v = src!.video!;
    return p.mode === 'field'
      ? { ...src!, video: { ...v, fps: reduce({ num: v.fps.num * 2, den: v.fps.den }) } }
      : src!;
  },
  cost: (p, [src]) => {
    const v = src!.video!;
    return {
      cpuPerSecond: (p.mode === 'field' ? 0.5 : 0.3) * ((v.width * v.height) / (1920 * 1080)),
      memoryMiB: 32,
    };
  },
  filter: (p, io) =>
    mapStreams(
      io,
      [
        {
          name: 'bwdif',
          args: { mode: p.mode === 'field' ? 'send_field' : 'send_frame', parity: p.parity, deint: p.deint },
        },
      ],
      null,
    ),
  chunkSafe: true,
};
