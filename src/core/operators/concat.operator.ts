import { z } from 'zod';
import { chain, type FilterNode } from '../ffmpeg/filtergraph.js';
import type { StreamMeta, VideoMeta } from '../spec/media-info.js';
import { formatRational } from '../spec/types.js';
import type { FilterIO, Operator } from './operator.js';
import { scaledSize } from './scale.operator.js';

export const ConcatParams = z.strictObject({});
export type ConcatParams = z.infer<typeof ConcatParams>;

const RATE = 48_000;
const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/** Every input is made to look like the first: its size (rounded down to even), its frame rate, yuv420p; 48 kHz stereo audio. */
function joined(inputs: readonly StreamMeta[]): StreamMeta {
  const first = inputs[0]!.video;
  const durations = inputs.map((i) => i.duration);
  return {
    duration: durations.every((d) => d !== null) ? durations.reduce((a, b) => a + b, 0) : null,
    video: first
      ? { width: even(first.width), height: even(first.height), fps: first.fps, pixFmt: 'yuv420p' }
      : null,
    audio: inputs.some((i) => i.audio) ? { sampleRate: RATE, channels: 2 } : null,
  };
}

function videoPads(io: FilterIO, nodes: FilterNode[]): string[] {
  const v = io.meta.video!;
  return io.inputs.map((input) => {
    const c = chain(
      input.video!,
      [
        // The fitted size is computed here, not by scale's force_original_aspect_ratio and
        // force_divisible_by (the latter is FFmpeg ≥ 4.2): one rule, known to the plan.
        { name: 'scale', args: fitted(input.meta.video!, v) },
        { name: 'pad', args: { w: v.width, h: v.height, x: -1, y: -1 } }, // -1: centred
        { name: 'setsar', args: ['1'] },
        { name: 'fps', args: { fps: formatRational(v.fps) } },
        { name: 'format', args: ['yuv420p'] },
      ],
      io.label,
    );
    nodes.push(...c.nodes);
    return c.out;
  });
}

/** The size an input is scaled to before it is padded to the first's: aspect kept, even sides. */
function fitted(src: VideoMeta, to: VideoMeta): { w: number; h: number } {
  const s = scaledSize(src, { width: to.width, height: to.height, fit: 'contain', algorithm: 'bicubic' });
  return { w: s.width, h: s.height };
}

/** Inputs without audio get silence as long as they are, so the segments stay in step. */
function audioPads(io: FilterIO, nodes: FilterNode[]): string[] {
  return io.inputs.map((input) => {
    let c: { nodes: FilterNode[]; out: string };
    if (input.audio !== undefined) {
      c = chain(
        input.audio,
        [
          { name: 'aresample', args: [RATE] },
          { name: 'aformat', args: { sample_fmts: 'fltp', channel_layouts: 'stereo' } },
        ],
        io.label,
      );
    } else {
      const silence = io.label('anullsrc');
      nodes.push({ name: 'anullsrc', args: { r: RATE, cl: 'stereo' }, in: [], out: [silence] });
      const duration = input.meta.duration;
      if (duration === null)
        throw new Error('concat: a silent input needs a known duration (check() refuses it)');
      c = chain(silence, [{ name: 'atrim', args: { duration } }], io.label);
    }
    nodes.push(...c.nodes);
    return c.out;
  });
}

export const concat: Operator<ConcatParams> = {
  name: 'concat',
  summary: "Join 2-16 clips end to end, fitting each to the first one's size and frame rate.",
  params: ConcatParams,
  inputs: { kind: 'any', min: 2, max: 16 },
  check: (_p, inputs) => {
    const problems: string[] = [];
    const hasVideo = inputs[0]!.video !== null;
    const hasAudio = inputs.some((i) => i.audio);
    inputs.forEach((input, i) => {
      const n = `input ${i + 1}`;
      if (input.still) problems.push(`${n} is a still image; concat joins clips`);
      else if ((input.video !== null) !== hasVideo)
        problems.push(
          `${n} ${hasVideo ? 'has no video but input 1 has' : 'has video but input 1 has none'}; give all inputs video or none`,
        );
      else if (hasAudio && !input.audio && input.duration === null)
        problems.push(`${n} has no audio and no known duration to fill with silence`);
    });
    return problems;
  },
  output: (_p, inputs) => joined(inputs),
  cost: (_p, inputs) => {
    const v = joined(inputs).video;
    const pixels = v ? (v.width * v.height) / (1920 * 1080) : 0;
    return { cpuPerSecond: 0.1 * pixels + 0.02, memoryMiB: 32 + 16 * inputs.length };
  },
  filter: (_p, io) => {
    const nodes: FilterNode[] = [];
    // Streams nobody downstream reads arrive without pads: join only the kinds that were given.
    const v = io.inputs.some((i) => i.video !== undefined) ? videoPads(io, nodes) : [];
    const a = io.inputs.some((i) => i.audio !== undefined) ? audioPads(io, nodes) : [];
    // concat takes each segment's streams together: [v0][a0][v1][a1]...
    const pads = io.inputs.flatMap((_, i) => [v[i], a[i]].filter((l): l is string => l !== undefined));
    const video = v.length ? io.label('concat_v') : undefined;
    const audio = a.length ? io.label('concat_a') : undefined;
    const out = [video, audio].filter((l): l is string => l !== undefined);
    nodes.push({
      name: 'concat',
      args: { n: io.inputs.length, v: video ? 1 : 0, a: audio ? 1 : 0 },
      in: pads,
      out,
    });
    return { nodes, ...(video ? { video } : {}), ...(audio ? { audio } : {}) };
  },
  chunkSafe: false,
};
