/**
 * Parameter types beyond zod's own: each accepts the forms people write and turns them into one
 * canonical value (seconds, pixels, bits per second, a rational), so that no user string ever
 * reaches FFmpeg as it was typed.
 */
import { z } from 'zod';
import type { IssueCode } from '../errors.js';

/** Adds a problem whose code our issue mapper reads back (`params.issue`), so errors say out_of_range, not custom. */
export function fail(ctx: z.RefinementCtx, issue: IssueCode, message: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, params: { issue } });
  return z.NEVER;
}

export interface Rational {
  num: number;
  den: number;
}

/** The longest timecode accepted: 100 hours. Longer is a typo, never a film. */
export const MAX_SECONDS = 360_000;

const TIMECODE_RE = /^(?:(\d{1,3}):)?([0-5]?\d):([0-5]?\d(?:\.\d{1,6})?)$/;
const SECONDS_RE = /^\d{1,6}(?:\.\d{1,6})?$/;

/** `HH:MM:SS.mmm`, `MM:SS`, `SS.mmm` or a number of seconds → seconds. */
export function parseTimecode(v: string | number): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const s = v.trim();
  if (SECONDS_RE.test(s)) return Number(s);
  const m = TIMECODE_RE.exec(s);
  if (!m) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

function secondsType(opts: { positive: boolean }) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number' && (!Number.isFinite(v) || v < 0 || v > MAX_SECONDS)) {
      fail(ctx, 'out_of_range', `must be between 0 and ${MAX_SECONDS} seconds`);
      return z.NEVER;
    }
    const s = parseTimecode(v);
    if (s === null) {
      fail(ctx, 'invalid_format', 'expected HH:MM:SS.mmm, MM:SS or seconds');
      return z.NEVER;
    }
    if (s > MAX_SECONDS || (opts.positive && s <= 0)) {
      fail(
        ctx,
        'out_of_range',
        opts.positive
          ? `must be more than 0 and at most ${MAX_SECONDS} seconds`
          : `must be at most ${MAX_SECONDS} seconds`,
      );
      return z.NEVER;
    }
    return s;
  });
}

/** A point in time: `HH:MM:SS.mmm`, `MM:SS`, or seconds (number or string). */
export const Timecode = secondsType({ positive: false }).meta({
  description: 'HH:MM:SS.mmm, MM:SS or seconds',
  examples: ['00:01:30.5', 90.5],
});
/** A length of time, strictly positive, same forms as a timecode. */
export const Duration = secondsType({ positive: true }).meta({
  description: 'HH:MM:SS.mmm, MM:SS or seconds (> 0)',
  examples: ['00:00:30', 30],
});

const NAMED_HEIGHTS: Record<string, number> = {
  '144p': 144,
  '240p': 240,
  '360p': 360,
  '480p': 480,
  '540p': 540,
  '720p': 720,
  '1080p': 1080,
  '1440p': 1440,
  '2160p': 2160,
  '4k': 2160,
  '4320p': 4320,
  '8k': 4320,
};
export const MAX_DIMENSION = 16384;

export interface Size {
  width: number;
  height: number;
}

/** `1920x1080` or a named height (`720p`, `4k`, assuming 16:9) → pixels. */
export function parseResolution(v: string): Size | null {
  const s = v.trim().toLowerCase();
  const named = NAMED_HEIGHTS[s];
  if (named) return { width: Math.round((named * 16) / 9 / 2) * 2, height: named };
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(s);
  if (!m) return null;
  return { width: Number(m[1]), height: Number(m[2]) };
}

export const Resolution = z
  .string()
  .transform((v, ctx) => {
    const r = parseResolution(v);
    if (!r) {
      fail(ctx, 'invalid_format', 'expected WIDTHxHEIGHT (1920x1080) or 720p/1080p/4k');
      return z.NEVER;
    }
    if (r.width < 2 || r.height < 2 || r.width > MAX_DIMENSION || r.height > MAX_DIMENSION) {
      fail(ctx, 'out_of_range', `each side must be between 2 and ${MAX_DIMENSION}`);
      return z.NEVER;
    }
    return r;
  })
  .meta({ description: 'WIDTHxHEIGHT or 720p/1080p/4k', examples: ['1280x720', '1080p'] });

const NAMED_RATES: Record<string, Rational> = {
  ntsc: { num: 30000, den: 1001 },
  pal: { num: 25, den: 1 },
  film: { num: 24, den: 1 },
  'ntsc-film': { num: 24000, den: 1001 },
};

/** `30000/1001`, `29.97`, `25`, or ntsc/pal/film → a reduced rational. */
export function parseFrameRate(v: string | number): Rational | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? decimalToRational(v) : null;
  const s = v.trim().toLowerCase();
  const named = NAMED_RATES[s];
  if (named) return { ...named };
  const frac = /^(\d{1,6})\/(\d{1,6})$/.exec(s);
  if (frac) {
    const num = Number(frac[1]);
    const den = Number(frac[2]);
    return den > 0 && num > 0 ? reduce({ num, den }) : null;
  }
  if (/^\d{1,4}(?:\.\d{1,4})?$/.test(s)) return decimalToRational(Number(s));
  return null;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
export function reduce(r: Rational): Rational {
  const g = gcd(Math.abs(r.num), Math.abs(r.den)) || 1;
  return { num: r.num / g, den: r.den / g };
}
function decimalToRational(x: number): Rational {
  // The usual NTSC rates written as decimals mean their exact fractions.
  for (const base of [24, 30, 60, 120]) {
    if (Math.abs(x - (base * 1000) / 1001) < 0.01) return { num: base * 1000, den: 1001 };
  }
  return reduce({ num: Math.round(x * 1000), den: 1000 });
}
export function rationalToNumber(r: Rational): number {
  return r.num / r.den;
}
export function formatRational(r: Rational): string {
  return `${r.num}/${r.den}`;
}

export const FrameRate = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const r = parseFrameRate(v);
    if (!r) {
      fail(ctx, 'invalid_format', 'expected 30000/1001, 29.97, 25 or ntsc/pal/film');
      return z.NEVER;
    }
    const x = rationalToNumber(r);
    if (x < 0.01 || x > 300) {
      fail(ctx, 'out_of_range', 'frame rate must be between 0.01 and 300');
      return z.NEVER;
    }
    return r;
  })
  .meta({ description: 'frame rate: 30000/1001, 29.97, 25, ntsc, pal, film', examples: ['30000/1001', 25] });

const NAMED_COLOURS: Record<string, string> = {
  black: '000000',
  white: 'ffffff',
  red: 'ff0000',
  green: '008000',
  lime: '00ff00',
  blue: '0000ff',
  yellow: 'ffff00',
  cyan: '00ffff',
  magenta: 'ff00ff',
  gray: '808080',
  grey: '808080',
  orange: 'ffa500',
  purple: '800080',
  transparent: '00000000',
};

/** `#rrggbb[aa]`, `0xrrggbb[aa]` or a basic colour name → `0xrrggbbaa`, a form FFmpeg reads unambiguously. */
export function parseColour(v: string): string | null {
  const s = v.trim().toLowerCase();
  const named = NAMED_COLOURS[s];
  const hex = named ?? /^(?:#|0x)([0-9a-f]{6}(?:[0-9a-f]{2})?)$/.exec(s)?.[1];
  if (!hex) return null;
  return `0x${hex.length === 6 ? `${hex}ff` : hex}`;
}

export const Colour = z
  .string()
  .transform((v, ctx) => {
    const c = parseColour(v);
    if (!c) {
      fail(ctx, 'invalid_format', 'expected #rrggbb, #rrggbbaa or a colour name (black, white, ...)');
      return z.NEVER;
    }
    return c;
  })
  .meta({ description: '#rrggbb[aa], 0xrrggbb[aa] or a colour name', examples: ['#000000', 'black'] });

export const ANCHORS = [
  'top-left',
  'top',
  'top-right',
  'left',
  'center',
  'right',
  'bottom-left',
  'bottom',
  'bottom-right',
] as const;
export type Anchor = (typeof ANCHORS)[number];
export type Position = { anchor: Anchor } | { x: number; y: number };

export function parsePosition(v: string): Position | null {
  const s = v.trim().toLowerCase();
  if ((ANCHORS as readonly string[]).includes(s)) return { anchor: s as Anchor };
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(s);
  return m ? { x: Number(m[1]), y: Number(m[2]) } : null;
}

export const PositionType = z
  .string()
  .transform((v, ctx) => {
    const p = parsePosition(v);
    if (!p) {
      fail(ctx, 'invalid_format', `expected ${ANCHORS.join(', ')} or x:y in pixels`);
      return z.NEVER;
    }
    return p;
  })
  .meta({ description: `${ANCHORS.join(' | ')} or x:y`, examples: ['bottom-right', '10:20'] });

export const MIN_BITRATE = 1_000;
export const MAX_BITRATE = 1_000_000_000;

/** `2500k`, `5M`, `1.5m`, `128000` → bits per second. */
export function parseBitrate(v: string | number): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : null;
  const m = /^(\d{1,10}(?:\.\d{1,3})?)([kKmM]?)$/.exec(v.trim());
  if (!m) return null;
  const mult = m[2] === '' ? 1 : m[2]?.toLowerCase() === 'k' ? 1_000 : 1_000_000;
  return Math.round(Number(m[1]) * mult);
}

export const Bitrate = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const b = parseBitrate(v);
    if (b === null) {
      fail(ctx, 'invalid_format', 'expected bits per second: 2500k, 5M or 128000');
      return z.NEVER;
    }
    if (b < MIN_BITRATE || b > MAX_BITRATE) {
      fail(ctx, 'out_of_range', `must be between 1k and 1000M`);
      return z.NEVER;
    }
    return b;
  })
  .meta({ description: 'bits per second: 2500k, 5M, 128000', examples: ['2500k', '128k'] });

/** A worker label (`gpu`, `site=paris`): what jobs ask for and workers carry. */
export const Label = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:=/-]{0,99}$/, 'letters, digits and _ . : = / -');

export const HARDWARE_NEEDS = ['any', 'preferred', 'required'] as const;
