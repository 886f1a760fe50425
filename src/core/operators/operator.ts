/**
 * An operator is a plain object the registry holds by name (DESIGN.md "Operators"). It declares
 * its parameters as a zod schema, the media it takes, the media it yields (metadata propagation),
 * what it costs, and the filter nodes that do the work.
 */
import type { z } from 'zod';
import { chain, type FilterArgs, type FilterNode } from '../ffmpeg/filtergraph.js';
import type { StreamMeta } from '../spec/media-info.js';

export interface Cost {
  /** CPU-seconds per second of media, relative to decoding 1080p30 H.264 = 1. */
  cpuPerSecond: number;
  /** Extra resident memory in MiB while it runs. */
  memoryMiB: number;
}

/** The streams one operator input arrives on: pad labels plus what they carry. */
export interface InputPads {
  video?: string;
  audio?: string;
  meta: StreamMeta;
}

export interface FilterIO {
  inputs: readonly InputPads[];
  /** The operator's own output meta, as output() computed it. */
  meta: StreamMeta;
  /** Fresh pad labels. */
  label: (hint: string) => string;
  /** Results of an analysis pass for this node (loudnorm's measurements), when it asked for one. */
  analysis?: Readonly<Record<string, unknown>>;
  /** True in the analysis pass: emit the measuring form of the filter (loudnorm print_format=json). */
  measure?: boolean;
}

export interface FilterResult {
  nodes: FilterNode[];
  video?: string;
  audio?: string;
}

export type MediaKind = 'video' | 'audio' | 'any';

export interface Operator<P = unknown> {
  name: string;
  summary: string;
  params: z.ZodType<P>;
  inputs: { kind: MediaKind; min: number; max: number };
  /** Cross-field rules that need media info; each string is one problem. */
  check?(p: P, inputs: readonly StreamMeta[]): string[];
  /** Metadata propagation: what comes out, given what goes in. */
  output(p: P, inputs: readonly StreamMeta[]): StreamMeta;
  cost?(p: P, inputs: readonly StreamMeta[]): Cost;
  filter(p: P, io: FilterIO): FilterResult;
  chunkSafe: boolean;
  /** The oldest FFmpeg that can do what these params ask, when it is newer than 4.1 (the bundled fallback). */
  requires?(p: P): { ffmpeg: readonly [number, number]; feature: string } | null;
  /** An analysis pass this operator needs before the real one (loudnorm two-pass). */
  analysis?(p: P): 'loudness' | null;
}

/** Any operator, whatever its params. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds operators of every param type
export type AnyOperator = Operator<any>;

/** Apply per-stream filters to the first input: video filters on its video, audio filters on its audio. */
export function mapStreams(
  io: FilterIO,
  video: ReadonlyArray<{ name: string; args?: FilterArgs }> | null,
  audio: ReadonlyArray<{ name: string; args?: FilterArgs }> | null,
): FilterResult {
  const src = io.inputs[0];
  if (!src) throw new Error('operator has no input');
  const nodes: FilterNode[] = [];
  const result: FilterResult = { nodes };
  for (const [kind, filters] of [
    ['video', video],
    ['audio', audio],
  ] as const) {
    const pad = src[kind];
    if (pad === undefined) continue;
    if (!filters || filters.length === 0) {
      result[kind] = pad;
      continue;
    }
    const c = chain(pad, filters, io.label);
    nodes.push(...c.nodes);
    result[kind] = c.out;
  }
  return result;
}
