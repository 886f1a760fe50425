import { z } from 'zod';
import { escapeValue } from '../ffmpeg/filtergraph.js';
import { formatRational, rationalToNumber } from '../spec/types.js';
import { mapStreams, type Operator } from './operator.js';

export const SpeedParams = z.strictObject({
  factor: z
    .number()
    .min(0.25)
    .max(4)
    .meta({ description: 'playback speed: 2 is twice as fast, 0.5 half speed' }),
});
export type SpeedParams = z.infer<typeof SpeedParams>;

/** atempo factors whose product is `factor`, each within 0.5..2 where atempo sounds cleanest: 3 → 2 × 1.5. */
export function atempoChain(factor: number): number[] {
  const out: number[] = [];
  let rest = factor;
  while (rest > 2) {
    out.push(2);
    rest /= 2;
  }
  while (rest < 0.5) {
    out.push(0.5);
    rest /= 0.5;
  }
  return [...out, rest];
}

export const speed: Operator<SpeedParams> = {
  name: 'speed',
  summary: 'Play faster or slower (0.25-4×): video retimed at its own frame rate, audio tempo kept in pitch.',
  params: SpeedParams,
  inputs: { kind: 'any', min: 1, max: 1 },
  check: (_p, [src]) => (src?.still ? ['speed needs moving media, not a still image'] : []),
  output: (p, [src]) => ({ ...src!, duration: src!.duration === null ? null : src!.duration / p.factor }),
  cost: (p) => ({ cpuPerSecond: 0.05 * Math.max(1, 1 / p.factor), memoryMiB: 16 }),
  filter: (p, io) => {
    const fps = io.inputs[0]!.meta.video?.fps;
    const frames =
      fps && io.meta.duration !== null ? Math.round(io.meta.duration * rationalToNumber(fps)) : null;
    return mapStreams(
      io,
      [
        { name: 'setpts', args: [`PTS/${escapeValue(p.factor)}`] },
        // setpts alone keeps the nominal rate while frames arrive faster or slower, and the encoder then drops
        // or repeats them by its own rule; fps at the input's rate makes that choice, and the duration, exact.
        ...(fps ? [{ name: 'fps', args: { fps: formatRational(fps) } }] : []),
        // fps repeats the last frame up to the end-of-stream time it is told, and in FFmpeg 5.1 a trim
        // upstream reports a later one when the graph reads ahead (another branch buffering): cap the count.
        ...(frames !== null ? [{ name: 'trim', args: { end_frame: frames } }] : []),
      ],
      atempoChain(p.factor).map((f) => ({ name: 'atempo', args: [f] })),
    );
  },
  chunkSafe: true,
};
