/**
 * A TaskSpec is one FFmpeg invocation: what the orchestrator sends a worker. It carries the
 * operator applications (not rendered filter text), so the worker renders them with the same
 * registry, its own encoders and any analysis results; paths are absolute (after path mapping).
 */
import { z } from 'zod';
import { AUDIO_CODECS, OUTPUT_FORMATS, VIDEO_CODECS } from './codecs.js';
import { PIXEL_FORMATS, PRESETS, VIDEO_PROFILES } from './job-spec.schema.js';

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

export const TaskSpec = z.strictObject({
  id: TaskRef,
  kind: z.enum(['transcode', 'measure']),
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
  requirements: z.strictObject({ codecs: z.array(z.string()) }),
});
export type TaskSpec = z.infer<typeof TaskSpec>;
export type TaskSpecInput = z.input<typeof TaskSpec>;
