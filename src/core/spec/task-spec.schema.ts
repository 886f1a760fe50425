/**
 * A TaskSpec is one FFmpeg invocation: what the orchestrator sends a worker. It carries the
 * operator applications (not rendered filter text), so the worker renders them with the same
 * registry, its own encoders and any analysis results; paths are absolute (after path mapping).
 */
import { z } from 'zod';
import { AUDIO_CODECS, OUTPUT_FORMATS, VIDEO_CODECS } from './codecs.js';
import { PIXEL_FORMATS, PRESETS, VIDEO_PROFILES } from './job-spec.schema.js';
import { HARDWARE_NEEDS } from './types.js';

const RationalSchema = z.strictObject({ num: z.number().int().positive(), den: z.number().int().positive() });

export const StreamMetaSchema = z.strictObject({
  duration: z.number().nonnegative().nullable(),
  video: z
    .strictObject({
      width: z.number().int().positive(),
      height: z.number().int().positive(),
      fps: RationalSchema,
      pixFmt: z.string().optional(),
      codec: z.string().optional(),
      rotation: z.number().optional(),
    })
    .nullable(),
  audio: z
    .strictObject({
      sampleRate: z.number().int().positive(),
      channels: z.number().int().positive(),
      codec: z.string().optional(),
    })
    .nullable(),
  still: z.boolean().optional(),
  frames: z.number().int().nonnegative().optional(),
});

const AbsolutePath = z
  .string()
  .min(2)
  .max(4096)
  .refine((p) => p.startsWith('/'), 'must be an absolute path');
const TaskRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);

export const TaskInput = z.strictObject({ id: TaskRef, path: AbsolutePath, meta: StreamMetaSchema });
export type TaskInput = z.infer<typeof TaskInput>;

export const TaskNode = z.strictObject({
  id: TaskRef,
  op: z.string(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.array(TaskRef).min(1),
  meta: StreamMetaSchema,
});
export type TaskNode = z.infer<typeof TaskNode>;

export const ResolvedVideo = z.strictObject({
  codec: z.enum(VIDEO_CODECS),
  crf: z.number().int().min(0).max(63).optional(),
  preset: z.enum(PRESETS),
  bitrate: z.number().int().positive().optional(),
  max_bitrate: z.number().int().positive().optional(),
  buffer_size: z.number().int().positive().optional(),
  profile: z.enum(VIDEO_PROFILES).optional(),
  pixel_format: z.enum(PIXEL_FORMATS),
  keyframe_interval: z.number().positive().optional(),
});
export type ResolvedVideo = z.infer<typeof ResolvedVideo>;

export const ResolvedAudio = z.strictObject({
  codec: z.enum(AUDIO_CODECS),
  bitrate: z.number().int().positive().optional(),
  sample_rate: z.number().int().positive().optional(),
  channels: z.number().int().positive().optional(),
});
export type ResolvedAudio = z.infer<typeof ResolvedAudio>;

export const TaskOutput = z.strictObject({
  /** The spec's output index, so results map back to `outputs[i]`. */
  index: z.number().int().nonnegative(),
  node: TaskRef,
  path: AbsolutePath,
  format: z.enum(OUTPUT_FORMATS),
  video: ResolvedVideo.nullable(),
  audio: ResolvedAudio.nullable(),
  /** Image outputs: the picture encoder's quality (jpg/webp). */
  image: z.strictObject({ frames: z.number().int().positive() }).nullable(),
  expect: StreamMetaSchema,
  /** Extra files written beside the output once it succeeds (the sprite's WebVTT track). */
  sidecar: z.strictObject({ kind: z.literal('sprite_vtt'), path: AbsolutePath, node: TaskRef }).optional(),
});
export type TaskOutput = z.infer<typeof TaskOutput>;

/** A file name inside a chunked job's scratch folder: no separator, nothing the concat list must quote. */
const ScratchName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[a-z0-9]{1,8}$/);
/** Seconds with the microsecond grain FFmpeg parses times to. */
const Seconds = z.number().nonnegative().max(1e9);

/**
 * A chunk task's part of the source: frames [first_frame, first_frame + frames), which start at
 * the keyframe at `start` s. `seek`/`read` are what FFmpeg is told (seconds from the input's
 * start): cuts halfway between two frames, so rounding can never take or leave a frame.
 */
export const ChunkRange = z.strictObject({
  index: z.number().int().nonnegative(),
  start: Seconds,
  end: Seconds,
  first_frame: z.number().int().nonnegative(),
  frames: z.number().int().positive(),
  /** Where to seek; null: read from the beginning. */
  seek: Seconds.nullable(),
  /** How long to read after the seek; null: to the end. */
  read: z.number().positive().max(1e9).nullable(),
});
export type ChunkRange = z.infer<typeof ChunkRange>;

/**
 * A join task's pieces. Its inputs are the concat list it writes (`inputs[0]`, inside the scratch
 * folder) and the audio piece when there is one (`inputs[1]`).
 */
export const JoinPieces = z.strictObject({
  /** The job's scratch folder: the join removes it once the output is in place. */
  scratch: AbsolutePath,
  chunks: z
    .array(
      z.strictObject({
        file: ScratchName,
        frames: z.number().int().positive(),
        /** Seconds from this chunk's first frame to the next chunk's, on the output's frame grid. */
        duration: z.number().positive().max(1e9),
      }),
    )
    .min(2)
    .max(10_000),
  /** Where the first frame goes (s from the input's start), on the frame grid, as an unchunked encode puts it. */
  video_offset: Seconds,
});
export type JoinPieces = z.infer<typeof JoinPieces>;

export const TASK_KINDS = ['transcode', 'measure', 'chunk', 'audio', 'join'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export const TaskSpec = z
  .strictObject({
    id: TaskRef,
    /**
     * transcode: outputs from inputs; measure: an analysis pass; chunk: one range of the source's
     * video, to a scratch file; audio: the audio of a chunked output, encoded once, to a scratch file;
     * join: the chunks (stream copy) and the audio into the destination.
     */
    kind: z.enum(TASK_KINDS),
    inputs: z.array(TaskInput).min(1),
    nodes: z.array(TaskNode),
    outputs: z.array(TaskOutput),
    /** For a measure task: the node whose filter runs in its measuring form. */
    measure: TaskRef.optional(),
    /** Node id → the id of the measure task whose result this task's render needs. */
    analysis_from: z.record(z.string(), TaskRef).default({}),
    deps: z.array(TaskRef).default([]),
    /** Seconds of media the task produces (progress denominator); null when unknown. */
    expected_duration: z.number().nonnegative().nullable(),
    requirements: z.strictObject({
      codecs: z.array(z.string()),
      labels: z.array(z.string()).default([]),
      hardware: z.enum(HARDWARE_NEEDS).default('any'),
    }),
    /** chunk: the part of the source it encodes. */
    range: ChunkRange.optional(),
    /** join: the pieces it joins. */
    join: JoinPieces.optional(),
  })
  .superRefine((t, ctx) => {
    const problem = kindProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', path: ['kind'], message: problem });
  });
export type TaskSpec = z.infer<typeof TaskSpec>;
export type TaskSpecInput = z.input<typeof TaskSpec>;

/** A task's fields must fit its kind: a worker must never guess what a half-described task means. */
function kindProblem(t: {
  kind: TaskKind;
  outputs: readonly TaskOutput[];
  range?: ChunkRange | undefined;
  join?: JoinPieces | undefined;
  measure?: string | undefined;
}): string | null {
  if ((t.kind === 'chunk') !== (t.range !== undefined)) return 'a chunk task, and only one, has a range';
  if ((t.kind === 'join') !== (t.join !== undefined)) return 'a join task, and only one, has pieces';
  if ((t.kind === 'measure') !== (t.measure !== undefined))
    return 'a measure task, and only one, names a node';
  const [out, ...more] = t.outputs;
  if (t.kind === 'measure') return t.outputs.length === 0 ? null : 'a measure task writes no output';
  if (t.kind === 'transcode') return null;
  if (!out || more.length > 0) return `a ${t.kind} task writes exactly one output`;
  if (t.kind === 'chunk' && (!out.video || out.audio || out.video.codec === 'copy'))
    return 'a chunk task encodes video only';
  if (t.kind === 'audio' && (out.video || !out.audio)) return 'an audio task writes audio only';
  return null;
}
