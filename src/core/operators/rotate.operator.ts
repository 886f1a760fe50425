import { z } from 'zod';
import type { FilterArgs } from '../ffmpeg/filtergraph.js';
import { mapStreams, type Operator } from './operator.js';

export const RotateParams = z.strictObject({
  angle: z.literal([0, 90, 180, 270, -90]).default(90).meta({ description: 'degrees clockwise' }),
  flip: z.enum(['horizontal', 'vertical']).optional().meta({ description: 'mirror after rotating' }),
});
export type RotateParams = z.infer<typeof RotateParams>;

const quarter = (p: RotateParams) => p.angle === 90 || p.angle === 270 || p.angle === -90;

/** The fewest filters: 180° is hflip+vflip, so a flip on top of it cancels one of them. */
function filters(p: RotateParams): { name: string; args?: FilterArgs }[] {
  const half = p.angle === 180;
  return [
    ...(p.angle === 90 ? [{ name: 'transpose', args: ['clock'] }] : []),
    ...(p.angle === 270 || p.angle === -90 ? [{ name: 'transpose', args: ['cclock'] }] : []),
    ...(half !== (p.flip === 'horizontal') ? [{ name: 'hflip' }] : []),
    ...(half !== (p.flip === 'vertical') ? [{ name: 'vflip' }] : []),
  ];
}

export const rotate: Operator<RotateParams> = {
  name: 'rotate',
  summary: 'Rotate by a quarter turn (90/180/270/-90) and/or mirror horizontally or vertically.',
  params: RotateParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  output: (p, [src]) => {
    const v = src!.video!;
    return quarter(p) ? { ...src!, video: { ...v, width: v.height, height: v.width } } : src!;
  },
  cost: (p, [src]) => {
    const v = src!.video!;
    return {
      cpuPerSecond: (quarter(p) ? 0.08 : 0.03) * ((v.width * v.height) / (1920 * 1080)),
      memoryMiB: 16,
    };
  },
  filter: (p, io) => mapStreams(io, filters(p), null),
  chunkSafe: true,
};
