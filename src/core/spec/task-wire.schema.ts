/**
 * What passes between the orchestrator and a worker about one task: the assignment going out and
 * the reports coming back. Every report names the attempt it belongs to: the attempt is the
 * fencing token, and a report of an older attempt is refused.
 */
import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from '../errors.js';
import { TaskSpec } from './task-spec.schema.js';

export const TaskAssignment = z.strictObject({
  task_id: z.string().min(1).max(200),
  job_id: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
  spec: TaskSpec,
  /** Results of the analysis tasks this one reads (loudnorm's first pass), by node id. */
  analysis: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /**
   * The worker does not reach these paths (no shared storage): it fetches the inputs and uploads
   * the outputs over HTTP with signed URLs (POST /api/v1/tasks/:id/transfer).
   */
  transfer: z.boolean().default(false),
});

/** The header an upload's SHA-256 (hex) travels in: the orchestrator keeps the file only if it matches. */
export const TRANSFER_CHECKSUM_HEADER = 'x-mediaforge-sha256';

/** The signed URLs of one task attempt's files, relative to the orchestrator's URL. */
export const TransferUrls = z.strictObject({
  downloads: z.array(z.strictObject({ path: z.string(), url: z.string() })),
  uploads: z.array(z.strictObject({ path: z.string(), url: z.string() })),
  expires_at: z.string(),
});
export type TransferUrls = z.infer<typeof TransferUrls>;
export type TaskAssignment = z.infer<typeof TaskAssignment>;

export const TaskProgress = z.strictObject({
  percent: z.number().min(0).max(100).nullable(),
  fps: z.number().nonnegative().nullable(),
  speed: z.number().nonnegative().nullable(),
  /** Seconds of output written so far. */
  out_seconds: z.number().nonnegative().nullable(),
});
export type TaskProgress = z.infer<typeof TaskProgress>;

export const OutputFile = z.strictObject({
  index: z.number().int().nonnegative(),
  node: z.string(),
  /** Every file written: one, or a numbered series, plus sidecars. Absolute, on the worker. */
  files: z.array(z.string()),
  size: z.number().int().nonnegative(),
  md5: z.string().regex(/^[0-9a-f]{32}$/),
  duration: z.number().nonnegative().nullable(),
  media_info: z.record(z.string(), z.unknown()),
});
export type OutputFile = z.infer<typeof OutputFile>;

const codes = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

export const TaskError = z.strictObject({
  code: z.enum(codes),
  message: z.string().max(20_000),
  /** True when running the same task again may succeed (a stall, a lost worker, a full disk). */
  retryable: z.boolean(),
  /** The end of FFmpeg's log, when it failed. */
  log_tail: z.string().max(20_000).optional(),
});
export type TaskError = z.infer<typeof TaskError>;

const Ref = { task_id: z.string().min(1).max(200), attempt: z.number().int().positive() };

export const TaskReport = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('running'), ...Ref }),
  z.strictObject({ type: z.literal('progress'), ...Ref, progress: TaskProgress }),
  z.strictObject({
    type: z.literal('succeeded'),
    ...Ref,
    outputs: z.array(OutputFile),
    analysis: z.record(z.string(), z.unknown()).optional(),
    ffmpeg_ms: z.number().nonnegative(),
  }),
  z.strictObject({ type: z.literal('failed'), ...Ref, error: TaskError }),
  /** The worker stops without finishing (shutdown): the task goes back to the queue, no failure counted. */
  z.strictObject({ type: z.literal('released'), ...Ref }),
]);
export type TaskReport = z.infer<typeof TaskReport>;

/** Codes worth a second attempt: the run, not the job, went wrong. */
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set([
  'stalled',
  'ffmpeg_killed',
  'transfer_failed',
  'timeout',
  'output_write_failed',
  'worker_lost',
  'internal_error',
  'probe_timeout',
]);

/**
 * How the orchestrator reaches a worker. The local worker of `mediaforge up` implements it in
 * process; a remote worker behind HTTP implements the same calls.
 */
export interface WorkerLink {
  /** Takes the task, or says it is full (`busy`) or not taking work (`unavailable`). Idempotent on task id + attempt. */
  dispatch(a: TaskAssignment): Promise<'accepted' | 'busy' | 'unavailable'>;
  /** Stops the attempt if it runs (FFmpeg stopped, its temporary files removed). */
  cancel(taskId: string, attempt: number): Promise<void>;
}

/** Where a worker sends its reports; `stale` tells it the attempt is no longer its to run. */
export interface TaskReportSink {
  report(r: TaskReport): Promise<'ok' | 'stale'>;
}
