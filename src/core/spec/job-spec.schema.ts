/**
 * The public JobSpec contract (DESIGN.md): inputs → operations → outputs. The shape of the
 * pipeline seed, so that its clients' documents keep working unchanged.
 */
import { z } from 'zod';
import { AUDIO_CODECS, canonicalCodec, OUTPUT_FORMATS, VIDEO_CODECS } from './codecs.js';
import { Bitrate, HARDWARE_NEEDS, Label } from './types.js';

export const MAX_INPUTS = 16;
export const MAX_OPERATIONS = 64;
export const MAX_OUTPUTS = 16;

/** Ids name graph nodes; they never reach FFmpeg (labels are generated), but stay tame anyway. */
export const NodeId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'ids are 1-64 characters: letters, digits, _ . - (not first)');

/** A place: `file:///abs`, a relative path under the media root, or (later) upload://, s3://, http(s)://. */
export const Location = z.string().min(1, 'must not be empty').max(4096, 'at most 4096 characters');

export const PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;
export type Preset = (typeof PRESETS)[number];
export const PIXEL_FORMATS = ['yuv420p', 'yuv420p10le', 'yuv422p', 'yuv444p'] as const;
export const VIDEO_PROFILES = ['baseline', 'main', 'high', 'main10'] as const;
export const SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000] as const;

const codecName = <T extends readonly [string, ...string[]]>(names: T) =>
  z.string().transform(canonicalCodec).pipe(z.enum(names));

/** A bare string stands for `{codec: string}`. */
const shorthand = (v: unknown) => (typeof v === 'string' ? { codec: v } : v);

export const VideoCodecSpec = z.preprocess(
  shorthand,
  z.strictObject({
    codec: codecName(VIDEO_CODECS),
    crf: z.number().int().min(0).max(63).optional(),
    preset: z.enum(PRESETS).optional(),
    bitrate: Bitrate.optional(),
    max_bitrate: Bitrate.optional(),
    buffer_size: Bitrate.optional(),
    profile: z.enum(VIDEO_PROFILES).optional(),
    pixel_format: z.enum(PIXEL_FORMATS).optional(),
    keyframe_interval: z
      .number()
      .positive()
      .max(60)
      .optional()
      .meta({ description: 'seconds between keyframes' }),
  }),
);
export type VideoCodecSpec = z.infer<typeof VideoCodecSpec>;

export const AudioCodecSpec = z.preprocess(
  shorthand,
  z.strictObject({
    codec: codecName(AUDIO_CODECS),
    bitrate: Bitrate.optional(),
    sample_rate: z
      .number()
      .int()
      .refine((n) => (SAMPLE_RATES as readonly number[]).includes(n), `one of ${SAMPLE_RATES.join(', ')}`)
      .optional(),
    channels: z.number().int().min(1).max(8).optional(),
  }),
);
export type AudioCodecSpec = z.infer<typeof AudioCodecSpec>;

export const InputSpec = z.strictObject({ id: NodeId, source: Location });
export type InputSpec = z.infer<typeof InputSpec>;

export const OperationSpec = z
  .strictObject({
    op: z.string().min(1).max(64),
    input: NodeId.optional(),
    inputs: z.array(NodeId).min(1).max(MAX_INPUTS).optional(),
    output: NodeId,
    params: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((o, ctx) => {
    if (o.input === undefined && o.inputs === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['input'],
        message: 'give input (one id) or inputs (a list of ids)',
        params: { issue: 'required' },
      });
    } else if (o.input !== undefined && o.inputs !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['inputs'],
        message: 'give input or inputs, not both',
        params: { issue: 'invalid_value' },
      });
    }
  });
export type OperationSpec = z.infer<typeof OperationSpec>;

export const OutputSpec = z.strictObject({
  id: NodeId.meta({ description: 'the input or operation output to write' }),
  destination: Location,
  format: z.enum(OUTPUT_FORMATS).optional().meta({ description: "defaults to the destination's extension" }),
  codec: z
    .strictObject({ video: VideoCodecSpec.optional(), audio: AudioCodecSpec.optional() })
    .optional()
    .meta({
      description: 'defaults from the container: mp4 → h264 + aac, webm → vp9 + opus, mp3 → mp3, ...',
    }),
});
export type OutputSpec = z.infer<typeof OutputSpec>;

export const CHUNK_SECONDS_DEFAULT = 30;

export const ChunkingSpec = z.strictObject({
  enabled: z.boolean().meta({
    description:
      'split the video encode into chunks cut at source keyframes, run in parallel, then joined; a job that cannot be split runs whole, with a note in its plan',
  }),
  chunk_seconds: z
    .number()
    .min(2)
    .max(3600)
    .default(CHUNK_SECONDS_DEFAULT)
    .meta({ description: 'about how long each chunk is, in seconds of the source' }),
});
export type ChunkingSpec = z.infer<typeof ChunkingSpec>;

export const PlacementSpec = z.strictObject({
  labels: z.array(Label).max(20).default([]).meta({
    description: 'every task runs only on workers carrying all these labels (e.g. `gpu`, `site=paris`)',
  }),
  hardware: z.enum(HARDWARE_NEEDS).default('any').meta({
    description:
      'required: only workers whose probe proved a hardware encoder for the codec; preferred: those first; any: whichever scores best',
  }),
});
export type PlacementSpec = z.infer<typeof PlacementSpec>;

export const JobSpec = z.strictObject({
  inputs: z.array(InputSpec).min(1, 'at least one input').max(MAX_INPUTS),
  operations: z.array(OperationSpec).max(MAX_OPERATIONS).default([]),
  outputs: z.array(OutputSpec).min(1, 'at least one output').max(MAX_OUTPUTS),
  placement: PlacementSpec.optional().meta({ description: 'which workers may run the tasks' }),
  chunking: ChunkingSpec.optional().meta({
    description:
      'encode one output file in chunks on several workers at once (when omitted, the orchestrator may choose to)',
  }),
});
export type JobSpec = z.infer<typeof JobSpec>;

/** The body clients send: the spec and how to run it. */
export const JobRequest = z.strictObject({
  spec: JobSpec,
  priority: z.number().int().min(-100).max(100).default(0),
  callback_url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .optional(),
  idempotency_key: z.string().min(1).max(255).optional(),
});
export type JobRequest = z.infer<typeof JobRequest>;
