import { z } from 'zod';
import { chain } from '../ffmpeg/filtergraph.js';
import type { StreamMeta } from '../spec/media-info.js';
import { Duration, MAX_DIMENSION } from '../spec/types.js';
import type { Operator } from './operator.js';
import { everyFilters, framesEvery, sizeAtWidth, widthFilters } from './thumbnail.operator.js';

export const SpriteParams = z.strictObject({
  interval: Duration.default(10).meta({ description: 'seconds between tiles (default 10)' }),
  columns: z.number().int().min(1).max(20).default(5),
  width: z
    .number()
    .int()
    .min(16)
    .max(1024)
    .default(160)
    .meta({ description: 'tile width; the height keeps the aspect' }),
});
export type SpriteParams = z.infer<typeof SpriteParams>;

export interface SpriteLayout {
  /** Tiles: one per started interval. */
  count: number;
  /** Columns actually used: never more than there are tiles. */
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  /** The whole sheet. */
  width: number;
  height: number;
}

/** Where the tiles go; output() and whoever writes the WebVTT track both read it. */
export function spriteLayout(p: SpriteParams, src: StreamMeta): SpriteLayout {
  const count = framesEvery(src.duration, p.interval);
  const columns = Math.min(p.columns, count);
  const rows = Math.ceil(count / columns);
  const tile = sizeAtWidth(src.video!, p.width);
  return {
    count,
    columns,
    rows,
    tileWidth: tile.width,
    tileHeight: tile.height,
    width: columns * tile.width,
    height: rows * tile.height,
  };
}

/** FFmpeg refuses a picture when 8·(w+128)·(h+128) reaches INT_MAX (av_image_check_size): 16384×16384 fails. */
const fitsFFmpeg = (w: number, h: number) => 8 * (w + 128) * (h + 128) < 2 ** 31 - 1;

export const sprite: Operator<SpriteParams> = {
  name: 'sprite',
  summary:
    'One sprite sheet of tiles taken every interval, for seek previews (a WebVTT track can point into it).',
  params: SpriteParams,
  inputs: { kind: 'video', min: 1, max: 1 },
  check: (p, [src]) => {
    if (!src?.video) return ['sprite needs an input with video'];
    const l = spriteLayout(p, src);
    const size = `the sprite sheet would be ${l.width}×${l.height} px (${l.count} tiles in ${l.columns} columns × ${l.rows} rows)`;
    if (l.width > MAX_DIMENSION) return [`${size}, wider than ${MAX_DIMENSION} px: lower columns or width`];
    if (l.height > MAX_DIMENSION || !fitsFFmpeg(l.width, l.height)) {
      return [
        `${size}, more than FFmpeg can hold in one picture (${MAX_DIMENSION} px a side): raise interval or columns, or lower width`,
      ];
    }
    return [];
  },
  output: (p, [src]) => {
    const l = spriteLayout(p, src!);
    return {
      duration: null,
      video: { ...src!.video!, width: l.width, height: l.height },
      audio: null,
      still: true,
      frames: 1,
    };
  },
  cost: (p, [src]) => {
    const l = spriteLayout(p, src!);
    // The sheet is held whole, converted and encoded: about 8 bytes a pixel at the peak (measured on a PNG).
    return { cpuPerSecond: 0.05, memoryMiB: Math.ceil((l.width * l.height * 8) / 2 ** 20) + 16 };
  },
  filter: (p, io) => {
    const src = io.inputs[0]!;
    if (src.video === undefined) throw new Error('sprite: the input has no video pad');
    const l = spriteLayout(p, src.meta);
    const c = chain(
      src.video,
      [
        // Capped at count: more frames than the sheet holds would start a second sheet.
        ...everyFilters(p.interval, l.count),
        ...widthFilters(src.meta, p.width),
        // tile flushes a partly filled last sheet at EOF (blank tiles stay black).
        { name: 'tile', args: { layout: `${l.columns}x${l.rows}` } },
      ],
      io.label,
    );
    return { nodes: c.nodes, video: c.out };
  },
  chunkSafe: false,
};

/** `HH:MM:SS.mmm`, hours unbounded. */
function vttTime(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** A WebVTT thumbnails track: one cue per tile pointing at its place in the sheet; the last cue ends at the duration. */
export function spriteVtt(o: {
  count: number;
  interval: number;
  duration: number | null;
  columns: number;
  tileWidth: number;
  tileHeight: number;
  imageUrl: string;
}): string {
  if (/[\r\n]|-->/.test(o.imageUrl))
    throw new Error('spriteVtt: imageUrl must not contain line breaks or "-->"');
  const cues: string[] = [];
  for (let i = 0; i < o.count; i++) {
    const start = i * o.interval;
    const end = i === o.count - 1 && o.duration !== null ? Math.max(start, o.duration) : (i + 1) * o.interval;
    const x = (i % o.columns) * o.tileWidth;
    const y = Math.floor(i / o.columns) * o.tileHeight;
    cues.push(
      `${vttTime(start)} --> ${vttTime(end)}\n${o.imageUrl}#xywh=${x},${y},${o.tileWidth},${o.tileHeight}\n`,
    );
  }
  return ['WEBVTT\n', ...cues].join('\n');
}

/** The WebVTT track for a sprite operation, from its params as stored in a plan and its input's meta. */
export function spriteVttFor(params: unknown, src: StreamMeta, imageUrl: string): string {
  const p = SpriteParams.parse(params);
  return spriteVtt({ ...spriteLayout(p, src), interval: p.interval, duration: src.duration, imageUrl });
}
