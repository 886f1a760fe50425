import { z } from 'zod';
import { Colour, Duration } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const FadeParams = z
  .strictObject({
    in: Duration.optional().meta({ description: 'fade in from the start over this long' }),
    out: Duration.optional().meta({ description: 'fade out over this long, ending at the end' }),
    video: z.boolean().default(true),
    audio: z.boolean().default(true),
    colour: Colour.optional().meta({ description: 'colour to fade from/to; default black' }),
  })
  .superRefine((p, ctx) => {
    if (p.in === undefined && p.out === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['in'],
        message: 'give in, out or both',
        params: { issue: 'required' },
      });
    }
    if (!p.video && !p.audio) {
      ctx.addIssue({
        code: 'custom',
        path: ['video'],
        message: 'video or audio must be true',
        params: { issue: 'invalid_params' },
      });
    }
  });
export type FadeParams = z.infer<typeof FadeParams>;

const BLACK = '0x000000ff';

type Fade = { t: 'in' | 'out'; st: number; d: number };

/** The fades in time order; a fade out ends exactly at the end of the input. */
function fades(p: FadeParams, duration: number | null): Fade[] {
  const out: Fade[] = [];
  if (p.in !== undefined) out.push({ t: 'in', st: 0, d: p.in });
  if (p.out !== undefined) {
    if (duration === null)
      throw new Error('fade out needs a known duration (check() should have refused it)');
    out.push({ t: 'out', st: Math.max(0, duration - p.out), d: p.out });
  }
  return out;
}

export const fade: Operator<FadeParams> = {
  name: 'fade',
  summary: 'Fade video from/to a colour and audio from/to silence, at the start and/or the end.',
  params: FadeParams,
  inputs: { kind: 'any', min: 1, max: 1 },
  check: (p, [src]) => {
    if (!src || !((p.video && src.video) || (p.audio && src.audio))) {
      return [
        `nothing to fade: the input has no ${p.video && p.audio ? 'video or audio' : p.video ? 'video' : 'audio'}`,
      ];
    }
    const total = Number(((p.in ?? 0) + (p.out ?? 0)).toFixed(3));
    if (src.duration === null)
      return p.out === undefined ? [] : ['fade out needs an input of known duration'];
    return total > src.duration
      ? [`fades (${total}s in all) are longer than the input (${src.duration.toFixed(3)}s)`]
      : [];
  },
  output: (_p, [src]) => src!,
  cost: () => ({ cpuPerSecond: 0.02, memoryMiB: 0 }),
  filter: (p, io) => {
    const list = fades(p, io.inputs[0]!.meta.duration);
    const color: Record<string, string> = p.colour === undefined ? {} : { color: p.colour };
    // fade works in RGB for any colour but opaque black; convert back so the output keeps the input's format.
    const pix = io.inputs[0]!.meta.video?.pixFmt;
    const back = p.colour !== undefined && p.colour !== BLACK && pix ? [{ name: 'format', args: [pix] }] : [];
    return mapStreams(
      io,
      p.video ? [...list.map((f) => ({ name: 'fade', args: { ...f, ...color } })), ...back] : null,
      p.audio ? list.map((f) => ({ name: 'afade', args: f })) : null,
    );
  },
  chunkSafe: false,
};
