import { z } from 'zod';
import { escapeValue, type FilterNode } from '../ffmpeg/filtergraph.js';
import type { StreamMeta } from '../spec/media-info.js';
import type { Operator } from './operator.js';

export const MAX_MIX_INPUTS = 8;

export const MixParams = z.strictObject({
  duration: z
    .enum(['longest', 'shortest', 'first'])
    .default('longest')
    .meta({ description: 'which input sets the end' }),
  weights: z
    .array(z.number().min(0).max(10))
    .min(2)
    .max(MAX_MIX_INPUTS)
    .refine((w) => w.some((x) => x > 0), {
      message: 'at least one weight must be above 0',
      params: { issue: 'out_of_range' },
    })
    .optional()
    .meta({ description: 'one weight (0-10) per input, in input order' }),
  normalize: z.boolean().default(true).meta({ description: 'scale the sum so that it does not clip' }),
});
export type MixParams = z.infer<typeof MixParams>;

/** The seconds amix runs for: null when an input that decides it has no known length. */
function mixedDuration(p: MixParams, inputs: readonly StreamMeta[]): number | null {
  const all = inputs.map((i) => i.duration);
  if (p.duration === 'first') return all[0] ?? null;
  if (all.some((d) => d === null)) return null;
  return p.duration === 'longest' ? Math.max(...(all as number[])) : Math.min(...(all as number[]));
}

export const mix: Operator<MixParams> = {
  name: 'mix',
  summary: "Mix 2-8 audio inputs (amix); the first input's video, if any, passes through.",
  params: MixParams,
  inputs: { kind: 'audio', min: 2, max: MAX_MIX_INPUTS },
  check: (p, inputs) => [
    ...inputs.flatMap((s, i) => (s.audio ? [] : [`input ${i + 1} of mix has no audio`])),
    ...(p.weights && p.weights.length !== inputs.length
      ? [`weights has ${p.weights.length} values for ${inputs.length} inputs`]
      : []),
  ],
  // The mix takes the first input's sample rate and the most channels any input has (see filter()).
  output: (p, inputs) => ({
    duration: mixedDuration(p, inputs),
    video: inputs[0]!.video,
    audio: {
      sampleRate: inputs.find((i) => i.audio)?.audio?.sampleRate ?? 48_000,
      channels: Math.max(...inputs.map((i) => i.audio?.channels ?? 1)),
    },
  }),
  cost: (_p, inputs) => ({ cpuPerSecond: 0.01 * inputs.length, memoryMiB: 8 }),
  requires: (p) =>
    p.normalize ? null : { ffmpeg: [4, 4], feature: 'mix with normalize: false (amix normalize)' },
  filter: (p, io) => {
    const nodes: FilterNode[] = [];
    let out: string | undefined;
    // Audio pads come in only when an output writes the mix's audio: with `audio: none`, no amix.
    if (io.inputs.every((i) => i.audio !== undefined)) {
      const audio = io.label('amix');
      out = io.label('aformat');
      const { sampleRate, channels } = io.meta.audio!;
      nodes.push(
        {
          name: 'amix',
          args: {
            inputs: io.inputs.length,
            duration: p.duration,
            ...(p.weights ? { weights: p.weights.map(escapeValue).join(' ') } : {}),
            // amix always normalises before FFmpeg 4.4, which added the option: name it only to turn it off.
            normalize: p.normalize ? undefined : false,
          },
          in: io.inputs.map((i) => i.audio!),
          out: [audio],
        },
        // Pins the format amix would otherwise negotiate on its own; `Nc` is FFmpeg's default layout for N channels.
        {
          name: 'aformat',
          args: { sample_rates: sampleRate, channel_layouts: `${channels}c` },
          in: [audio],
          out: [out],
        },
      );
    }
    const first = io.inputs[0]!;
    let video = first.video;
    // The picture lasts as long as the mix: cut where a shorter mix ends (shortest), and hold the last
    // frame where a longer one goes on (longest, with a longer second input), as output() promises.
    const end = io.meta.duration;
    const length = first.meta.duration;
    if (video !== undefined && end !== null && length !== null && end !== length) {
      const fitted = io.label(end < length ? 'trim' : 'tpad');
      nodes.push(
        end < length
          ? { name: 'trim', args: { duration: end }, in: [video], out: [fitted] }
          : {
              name: 'tpad',
              args: { stop_mode: 'clone', stop_duration: end - length },
              in: [video],
              out: [fitted],
            },
      );
      video = fitted;
    }
    return { nodes, ...(out === undefined ? {} : { audio: out }), ...(video === undefined ? {} : { video }) };
  },
  chunkSafe: false,
};
