import { z } from 'zod';
import { escapeValue } from '../ffmpeg/filtergraph.js';
import { mapStreams, type Operator } from './operator.js';

export const VolumeParams = z
  .strictObject({
    gain_db: z.number().min(-60).max(60).optional().meta({ description: 'gain in dB (negative attenuates)' }),
    factor: z.number().min(0).max(10).optional().meta({ description: 'linear amplitude factor (0 mutes)' }),
  })
  .superRefine((p, ctx) => {
    if (p.gain_db !== undefined && p.factor !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['factor'],
        message: 'give gain_db or factor, not both',
        params: { issue: 'invalid_params' },
      });
    } else if (p.gain_db === undefined && p.factor === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gain_db'],
        message: 'gain_db or factor is required',
        params: { issue: 'required' },
      });
    }
  });
export type VolumeParams = z.infer<typeof VolumeParams>;

export const volume: Operator<VolumeParams> = {
  name: 'volume',
  summary: 'Change the audio level by gain_db or by a linear factor (one of the two); video passes through.',
  params: VolumeParams,
  inputs: { kind: 'audio', min: 1, max: 1 },
  check: (_p, [src]) => (src?.audio ? [] : ['volume needs an input with audio']),
  output: (_p, [src]) => ({ ...src! }),
  cost: () => ({ cpuPerSecond: 0.01, memoryMiB: 0 }),
  // FFmpeg reads `-6dB` as a level (10^(-6/20)), not as minus a level.
  filter: (p, io) =>
    mapStreams(io, null, [
      {
        name: 'volume',
        args: { volume: p.gain_db !== undefined ? `${escapeValue(p.gain_db)}dB` : p.factor! },
      },
    ]),
  chunkSafe: true,
};
