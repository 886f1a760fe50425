/**
 * What a remote worker and the orchestrator say to each other besides tasks: enrolment, the
 * start of a session, heartbeats and the worker's own API. Both sides validate with these.
 */
import { z } from 'zod';
import { Label } from './types.js';

const Name = z.string().min(1).max(100);
const Url = z.url({ protocol: /^https?$/ }).max(2000);

export const ProbedEncoder = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  codec: z.string().max(32),
  hardware: z.string().max(32).nullable(),
  /** Frames per second on the probe's test clip; 0 when not measured. */
  fps: z.number().nonnegative().max(100_000),
});
export type ProbedEncoder = z.infer<typeof ProbedEncoder>;

export const WorkerCapabilities = z.strictObject({
  encoders: z.array(ProbedEncoder).max(200),
  hwaccels: z.array(z.string().max(32)).max(50).default([]),
  /** Encoders that failed the probe, or later at the start of a task, with why. */
  unhealthy: z
    .array(z.strictObject({ name: z.string().max(64), error: z.string().max(500) }))
    .max(200)
    .default([]),
  ffmpeg_version: z.string().max(100).nullable().default(null),
  /** When the encoders were last probed (ISO time): measured, or only listed when probe_seconds is 0. */
  probed_at: z.string().max(40).nullable().default(null),
  cores: z.number().int().positive().max(4096),
  memory_bytes: z.number().int().nonnegative(),
  /** Media roots the worker reaches as the orchestrator names them (after its path mappings). */
  shared_roots: z.array(z.string().max(4096)).max(50).default([]),
});
export type WorkerCapabilities = z.infer<typeof WorkerCapabilities>;

export const Enrolment = z.strictObject({
  name: Name,
  url: Url.nullable(),
  max_concurrent: z.number().int().positive().max(256),
  labels: z.array(Label).max(50).default([]),
});
export type Enrolment = z.infer<typeof Enrolment>;

export const SessionStart = Enrolment.extend({
  capabilities: WorkerCapabilities,
  version: z.string().max(50),
});
export type SessionStart = z.infer<typeof SessionStart>;

export const SessionStarted = z.strictObject({
  session: z.string(),
  /** What the orchestrator presents when it calls this worker. */
  call_secret: z.string(),
  heartbeat_seconds: z.number().positive(),
});
export type SessionStarted = z.infer<typeof SessionStarted>;

export const WORKER_STATUSES = ['idle', 'busy', 'error', 'maintenance'] as const;

export const ActiveTask = z.strictObject({
  task_id: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
  percent: z.number().min(0).max(100).nullable(),
  fps: z.number().nonnegative().nullable(),
  speed: z.number().nonnegative().nullable(),
});
export type ActiveTask = z.infer<typeof ActiveTask>;

export const WorkerHeartbeat = z.strictObject({
  session: z.string().min(1).max(100),
  status: z.enum(WORKER_STATUSES),
  reason: z.string().max(1000).nullable(),
  cpu_percent: z.number().min(0).max(100_000).nullable(),
  memory: z.strictObject({ used: z.number().nonnegative(), total: z.number().nonnegative() }),
  load: z.array(z.number().nonnegative()).max(3),
  ffmpeg_processes: z.number().int().nonnegative(),
  active: z.array(ActiveTask).max(1000),
  version: z.string().max(50),
  /** Sent after a new probe (on demand, or an encoder found unhealthy). */
  capabilities: WorkerCapabilities.optional(),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

export const HeartbeatAnswer = z.strictObject({
  /** Attempts the worker runs that are no longer its own: it stops them. */
  stop: z.array(z.strictObject({ task_id: z.string(), attempt: z.number().int() })),
  /** An admin asked it to drain (finish what runs, take nothing new). */
  drain: z.boolean(),
});
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswer>;

export const WorkerPatch = z.strictObject({
  labels: z.array(Label).max(50).optional(),
  max_concurrent: z.number().int().positive().max(256).optional(),
  draining: z.boolean().optional(),
});
export type WorkerPatch = z.infer<typeof WorkerPatch>;
