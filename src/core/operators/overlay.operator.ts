import { z } from 'zod';
import { chain, type FilterArgs } from '../ffmpeg/filtergraph.js';
import type { VideoMeta } from '../spec/media-info.js';
import { type Position, PositionType, Timecode } from '../spec/types.js';
import type { Operator } from './operator.js';
import { anchorFraction } from './pad.operator.js';

export const OverlayParams = z
  .strictObject({
    position: PositionType.prefault('bottom-right'),
    margin: z
      .number()
      .int()
      .min(0)
      .max(4096)
      .default(10)
      .meta({ description: 'pixels from the edges at an anchor' }),
    opacity: z.number().min(0).max(1).default(1),
    scale: z
      .number()
      .min(0.01)
      .max(1)
      .optional()
      .meta({ description: "watermark width as a fraction of the main video's width" }),
    start: Timecode.optional().meta({ description: 'show the watermark from this time' }),
    end: Timecode.optional().meta({ description: 'show the watermark until this time' }),
  })
  .superRefine((p, ctx) => {
    if (p.start !== undefined && p.end !== undefined && p.end <= p.start) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: 'end must be after start',
        params: { issue: 'out_of_range' },
      });
    }
  });
export type OverlayParams = z.infer<typeof OverlayParams>;

/** x/y as overlay expressions: anchors keep `margin` from the edges they touch; x:y is taken as is. */
function placement(pos: Position, margin: number): { x: string | number; y: string | number } {
  if ('x' in pos) return { x: pos.x, y: pos.y };
  const { fx, fy } = anchorFraction(pos.anchor);
  const at = (f: number, d: 'w' | 'h') =>
    f === 0 ? margin : f === 1 ? `main_${d}-overlay_${d}-${margin}` : `(main_${d}-overlay_${d})/2`;
  return { x: at(fx, 'w'), y: at(fy, 'h') };
}

/** The time window as an `enable` expression; none when always on. */
function window(p: OverlayParams): { enable?: string } {
  if (p.start !== undefined && p.end !== undefined) return { enable: `between(t,${p.start},${p.end})` };
  if (p.start !== undefined) return { enable: `gte(t,${p.start})` };
  if (p.end !== undefined) return { enable: `lte(t,${p.end})` };
  return {};
}

/** The watermark's size after `scale`: a fraction of the main width, aspect kept, never below 1 px. */
export function markSize(
  p: OverlayParams,
  main: VideoMeta,
  mark: VideoMeta,
): { w: number; h: number } | null {
  if (p.scale === undefined) return null;
  const w = Math.max(1, Math.round(p.scale * main.width));
  return { w, h: Math.max(1, Math.round((w * mark.height) / mark.width)) };
}

export const overlay: Operator<OverlayParams> = {
  name: 'overlay',
  summary: 'Put a watermark (image or video) over the video, with position, opacity, size and time window.',
  params: OverlayParams,
  inputs: { kind: 'video', min: 2, max: 2 },
  check: (p, [main, mark]) => {
    if (!main?.video || !mark?.video)
      return ['overlay needs two video inputs: the main video and the watermark'];
    const problems: string[] = [];
    const pos = p.position;
    if ('x' in pos && (pos.x >= main.video.width || pos.y >= main.video.height)) {
      problems.push(
        `watermark at ${pos.x}:${pos.y} is outside the ${main.video.width}x${main.video.height} frame`,
      );
    }
    if (p.start !== undefined && main.duration !== null && p.start >= main.duration) {
      problems.push(`start ${p.start}s is past the end of the main video (${main.duration.toFixed(3)}s)`);
    }
    return problems;
  },
  // Overlay ends with the main input (checked: a longer video watermark does not extend it) and
  // keeps its size, rate and, pinned by the last `format`, its pixel format.
  output: (_p, [main]) => main!,
  cost: (p, [main]) => {
    const v = main!.video!;
    return {
      cpuPerSecond: (p.opacity < 1 ? 0.2 : 0.15) * ((v.width * v.height) / (1920 * 1080)),
      memoryMiB: 64,
    };
  },
  filter: (p, io) => {
    const [main, mark] = io.inputs;
    if (!main || !mark) throw new Error('overlay needs two inputs');
    // Only the audio is read downstream: it is the main's, untouched.
    if (main.video === undefined || mark.video === undefined)
      return { nodes: [], ...(main.audio ? { audio: main.audio } : {}) };
    const size = markSize(p, main.meta.video!, mark.meta.video!);
    const prep: { name: string; args?: FilterArgs }[] = [
      ...(size ? [{ name: 'scale', args: size }] : []),
      { name: 'format', args: ['rgba'] },
      ...(p.opacity < 1 ? [{ name: 'colorchannelmixer', args: { aa: p.opacity } }] : []),
    ];
    const wm = chain(mark.video, prep, io.label);
    const out = io.label('overlay');
    // A still is one frame: repeat it to the end. A video watermark plays once, then the main passes through.
    const eof = mark.meta.still ? 'repeat' : 'pass';
    // format=auto blends in the main's own layout and depth (10-bit stays 10-bit) but may add an
    // alpha plane or pick another format for the sink; the trailing format pins the main's again.
    const args = { ...placement(p.position, p.margin), eof_action: eof, format: 'auto', ...window(p) };
    const nodes = [...wm.nodes, { name: 'overlay', args, in: [main.video, wm.out], out: [out] }];
    const pix = main.meta.video?.pixFmt;
    const video = pix === undefined ? out : io.label('format');
    if (pix !== undefined) nodes.push({ name: 'format', args: [pix], in: [out], out: [video] });
    return {
      nodes,
      video,
      ...(main.audio === undefined ? {} : { audio: main.audio }),
    };
  },
  // Not chunk-safe: a video watermark would restart in every chunk, and a time window is in the
  // whole file's time. A still without a window would be safe, but chunkSafe cannot depend on params.
  chunkSafe: false,
};
