import { z } from 'zod';
import type { VideoMeta } from '../spec/media-info.js';
import { ANCHORS, MAX_DIMENSION } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';
import { anchorOffset, EvenSide } from './pad.operator.js';

const Offset = z.number().int().min(0).max(MAX_DIMENSION);

export const CropParams = z
  .strictObject({
    width: EvenSide,
    height: EvenSide,
    x: Offset.optional().meta({
      description: 'left edge in pixels (FFmpeg rounds it down to even on 4:2:0)',
    }),
    y: Offset.optional().meta({ description: 'top edge in pixels (FFmpeg rounds it down to even on 4:2:0)' }),
    position: z
      .enum(ANCHORS)
      .optional()
      .meta({ description: 'where the crop sits when x/y are not given; default center' }),
  })
  .superRefine((p, ctx) => {
    if ((p.x === undefined) !== (p.y === undefined)) {
      const path = [p.x === undefined ? 'x' : 'y'];
      ctx.addIssue({ code: 'custom', path, message: 'give x and y together', params: { issue: 'required' } });
    }
    if (p.x !== undefined && p.position !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['position'],
        message: 'give x/y or position, not both',
        params: { issue: 'invalid_params' },
      });
    }
  });
export type CropParams = z.infer<typeof CropParams>;

/** The crop's top-left corner inside the source frame. */
export function cropOffset(
  p: CropParams,
  src: Pick<VideoMeta, 'width' | 'height'>,
): { x: number; y: number } {
  return p.x !== undefined && p.y !== undefined
    ? { x: p.x, y: p.y }
    : anchorOffset(p.position ?? 'center', src, p);
}

export const crop: Operator<CropParams> = {
  name: 'crop',
  summary: 'Cut a rectangle out of the picture, at x/y or at an anchor (default center).',
  params: CropParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  check: (p, [src]) => {
    const v = src?.video;
    if (!v) return ['crop needs a video input'];
    const frame = `the ${v.width}x${v.height} frame`;
    if (p.width > v.width || p.height > v.height)
      return [`crop ${p.width}x${p.height} is larger than ${frame}`];
    const { x, y } = cropOffset(p, v);
    return x + p.width > v.width || y + p.height > v.height
      ? [`crop ${p.width}x${p.height} at ${x},${y} does not fit inside ${frame}`]
      : [];
  },
  output: (p, [src]) => ({ ...src!, video: { ...src!.video!, width: p.width, height: p.height } }),
  cost: () => ({ cpuPerSecond: 0.01, memoryMiB: 0 }),
  filter: (p, io) => {
    const { x, y } = cropOffset(p, io.inputs[0]!.meta.video!);
    return mapStreams(io, [{ name: 'crop', args: { w: p.width, h: p.height, x, y } }], null);
  },
  chunkSafe: true,
};
