import { z } from 'zod';
import type { StreamMeta, VideoMeta } from '../spec/media-info.js';
import { MAX_DIMENSION } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const SCALE_ALGORITHMS = ['bicubic', 'bilinear', 'lanczos', 'neighbor', 'area', 'spline'] as const;

export const ScaleParams = z
  .strictObject({
    width: z.number().int().min(2).max(MAX_DIMENSION).optional(),
    height: z.number().int().min(2).max(MAX_DIMENSION).optional(),
    algorithm: z.enum(SCALE_ALGORITHMS).default('bicubic'),
    fit: z.enum(['fill', 'contain', 'cover']).default('fill').meta({
      description: 'with both sides: fill stretches, contain fits inside, cover fills and overflows',
    }),
  })
  .refine((p) => p.width !== undefined || p.height !== undefined, {
    message: 'width or height is required',
    path: ['width'],
    params: { issue: 'required' },
  });
export type ScaleParams = z.infer<typeof ScaleParams>;

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** The size the scale filter produces (before cover's crop): one side given keeps the aspect ratio, rounded to even pixels. */
export function scaledSize(
  src: Pick<VideoMeta, 'width' | 'height'>,
  p: ScaleParams,
): { width: number; height: number } {
  const ratio = src.width / src.height;
  if (p.width !== undefined && p.height !== undefined) {
    if (p.fit === 'fill') return { width: p.width, height: p.height };
    const byWidth = p.width / p.height < ratio;
    const containW = byWidth === (p.fit === 'contain');
    return containW
      ? { width: even(p.width), height: even(p.width / ratio) }
      : { width: even(p.height * ratio), height: even(p.height) };
  }
  if (p.width !== undefined) return { width: p.width, height: even(p.width / ratio) };
  return { width: even(p.height! * ratio), height: p.height! };
}

/** The frame size that comes out: cover crops the overflow back to the asked size. */
export function fitSize(
  src: Pick<VideoMeta, 'width' | 'height'>,
  p: ScaleParams,
): { width: number; height: number } {
  return p.fit === 'cover' && p.width !== undefined && p.height !== undefined
    ? { width: p.width, height: p.height }
    : scaledSize(src, p);
}

export const scale: Operator<ScaleParams> = {
  name: 'scale',
  summary: 'Resize video; with one side given the aspect ratio is kept (even sizes).',
  params: ScaleParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  output: (p, [src]): StreamMeta => ({ ...src!, video: { ...src!.video!, ...fitSize(src!.video!, p) } }),
  cost: (p, [src]) => {
    const out = fitSize(src!.video!, p);
    return { cpuPerSecond: 0.1 * ((out.width * out.height) / (1920 * 1080)), memoryMiB: 32 };
  },
  filter: (p, io) => {
    const { width, height } = scaledSize(io.inputs[0]!.meta.video!, p);
    const out = io.meta.video!;
    const crop =
      out.width !== width || out.height !== height
        ? [{ name: 'crop', args: { w: out.width, h: out.height } }]
        : [];
    return mapStreams(
      io,
      [
        { name: 'scale', args: { w: width, h: height, flags: p.algorithm } },
        ...crop,
        { name: 'setsar', args: ['1'] },
      ],
      null,
    );
  },
  chunkSafe: true,
};
