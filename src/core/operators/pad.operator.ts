import { z } from 'zod';
import type { VideoMeta } from '../spec/media-info.js';
import { ANCHORS, type Anchor, Colour, MAX_DIMENSION } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

/**
 * A frame side that crop and pad may produce. FFmpeg's crop and pad silently round sizes down to
 * the chroma grid (even on 4:2:0, i.e. most video), so an odd size would not be what comes out.
 */
export const EvenSide = z
  .number()
  .int()
  .min(2)
  .max(MAX_DIMENSION)
  .multipleOf(2, 'must be even: 4:2:0 video (most video) has no odd sizes');

/** Where an anchor sits along each axis: 0 = left/top, 0.5 = centre, 1 = right/bottom. */
export function anchorFraction(a: Anchor): { fx: number; fy: number } {
  return {
    fx: a.endsWith('left') ? 0 : a.endsWith('right') ? 1 : 0.5,
    fy: a.startsWith('top') ? 0 : a.startsWith('bottom') ? 1 : 0.5,
  };
}

/** Top-left corner of an inner box of size `inner` placed at `a` inside `outer` (whole pixels). */
export function anchorOffset(
  a: Anchor,
  outer: Pick<VideoMeta, 'width' | 'height'>,
  inner: Pick<VideoMeta, 'width' | 'height'>,
) {
  const { fx, fy } = anchorFraction(a);
  return {
    x: Math.floor((outer.width - inner.width) * fx),
    y: Math.floor((outer.height - inner.height) * fy),
  };
}

export const PadParams = z.strictObject({
  width: EvenSide,
  height: EvenSide,
  colour: Colour.prefault('black'),
  position: z
    .enum(ANCHORS)
    .default('center')
    .meta({ description: 'where the picture sits in the padded frame' }),
});
export type PadParams = z.infer<typeof PadParams>;

export const pad: Operator<PadParams> = {
  name: 'pad',
  summary: 'Add borders up to a larger frame size, placing the picture at an anchor.',
  params: PadParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  check: (p, [src]) => {
    const v = src?.video;
    if (!v) return ['pad needs a video input'];
    return p.width < v.width || p.height < v.height
      ? [
          `pad size ${p.width}x${p.height} is smaller than the ${v.width}x${v.height} frame; crop or scale first`,
        ]
      : [];
  },
  output: (p, [src]) => ({ ...src!, video: { ...src!.video!, width: p.width, height: p.height } }),
  cost: (p) => ({ cpuPerSecond: 0.03 * ((p.width * p.height) / (1920 * 1080)), memoryMiB: 16 }),
  filter: (p, io) => {
    const { x, y } = anchorOffset(p.position, p, io.inputs[0]!.meta.video!);
    return mapStreams(io, [{ name: 'pad', args: { w: p.width, h: p.height, x, y, color: p.colour } }], null);
  },
  chunkSafe: true,
};
