import { z } from 'zod';
import { mapStreams, type Operator } from './operator.js';

export const LoudnormParams = z.strictObject({
  integrated: z
    .number()
    .min(-70)
    .max(-5)
    .default(-23)
    .meta({ description: 'target integrated loudness, LUFS' }),
  true_peak: z.number().min(-9).max(0).default(-1).meta({ description: 'maximum true peak, dBTP' }),
  lra: z.number().min(1).max(50).default(7).meta({ description: 'target loudness range, LU' }),
  two_pass: z.boolean().default(false).meta({ description: 'measure first, then normalise linearly' }),
});
export type LoudnormParams = z.infer<typeof LoudnormParams>;

/** A level as loudnorm prints it ("-23.01", "-inf", "inf"); infinities (silence) become null, which JSON can carry. */
const Level = z
  .union([
    z.number().min(-200).max(200),
    z.string().regex(/^(?:-?\d{1,3}(?:\.\d{1,6})?|[+-]?inf)$/),
    z.null(),
  ])
  .transform((v) => (typeof v === 'string' ? (v.endsWith('inf') ? null : Number(v)) : v));

/** What loudnorm's measuring pass reports; the analysis result a two-pass run hands back as `io.analysis`. */
export const LoudnessMeasurement = z.object({
  input_i: Level,
  input_tp: Level,
  input_lra: Level,
  input_thresh: Level,
  target_offset: Level,
});
export type LoudnessMeasurement = z.infer<typeof LoudnessMeasurement>;

/** The JSON block loudnorm (print_format=json) logs when it closes, taken from FFmpeg's stderr: the last one wins. */
export function parseLoudnormReport(stderr: string): LoudnessMeasurement {
  const block = stderr.match(/\{\s*"input_i"[^{}]*\}/g)?.at(-1);
  if (!block)
    throw new Error('no loudnorm measurement in the FFmpeg log (was loudnorm run with print_format=json?)');
  let json: unknown;
  try {
    json = JSON.parse(block);
  } catch (e) {
    throw new Error(`the loudnorm measurement in the FFmpeg log is not valid JSON: ${block.slice(0, 200)}`, {
      cause: e,
    });
  }
  const m = LoudnessMeasurement.safeParse(json);
  if (!m.success)
    throw new Error(
      `the loudnorm measurement is incomplete: ${m.error.issues.map((i) => i.path.join('.')).join(', ')}`,
    );
  return m.data;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * loudnorm's second-pass options, clamped into the ranges FFmpeg accepts; null when the input measured as
 * silence. loudnorm reads measured_i 0, measured_tp 99, measured_lra 0 and measured_thresh -70 as "not
 * given" and quietly falls back to dynamic mode, so real measurements of those values are nudged off them
 * (a steady tone really does measure LRA 0.00).
 */
function measured(m: LoudnessMeasurement): Record<string, number | boolean> | null {
  const { input_i: i, input_tp: tp, input_lra: lra, input_thresh: thresh, target_offset: offset } = m;
  // Silence has no loudness to correct: a linear gain would be infinite, so the dynamic mode runs instead.
  if (i === null || tp === null || lra === null || thresh === null || offset === null) return null;
  return {
    measured_i: clamp(i, -99, -0.01),
    measured_tp: clamp(tp, -99, 98.99),
    measured_lra: clamp(lra, 0.01, 99),
    measured_thresh: thresh === -70 ? -69.99 : clamp(thresh, -99, 0),
    offset: clamp(offset, -99, 99),
    linear: true,
  };
}

export const loudnorm: Operator<LoudnormParams> = {
  name: 'loudnorm',
  summary: 'Normalise loudness to EBU R128 (single pass, or measured then linear with two_pass).',
  params: LoudnormParams,
  inputs: { kind: 'audio', min: 1, max: 1 },
  check: (_p, [src]) => (src?.audio ? [] : ['loudnorm needs an input with audio']),
  output: (_p, [src]) => ({ ...src! }),
  cost: () => ({ cpuPerSecond: 0.15, memoryMiB: 32 }),
  analysis: (p) => (p.two_pass ? 'loudness' : null),
  filter: (p, io) => {
    const target = { i: p.integrated, tp: p.true_peak, lra: p.lra };
    let args: Record<string, number | boolean | string> = target;
    if (io.measure) args = { ...target, print_format: 'json' };
    else if (io.analysis) {
      const m = LoudnessMeasurement.safeParse(io.analysis);
      if (!m.success) throw new Error('loudnorm: the analysis result is not a loudness measurement');
      args = { ...target, ...measured(m.data) };
    }
    // loudnorm always outputs 192 kHz and, in FFmpeg 5.1, a channel count without a layout: aresample then
    // fails ("Cannot select channel layout"), and a sibling branch (an asplit to a stereo mix) can upmix the
    // result. aformat pins both; `Nc` is FFmpeg's default layout for N channels.
    const { sampleRate, channels } = io.inputs[0]!.meta.audio!;
    return mapStreams(io, null, [
      { name: 'loudnorm', args },
      { name: 'aformat', args: { sample_rates: sampleRate, channel_layouts: `${channels}c` } },
    ]);
  },
  chunkSafe: false,
};
