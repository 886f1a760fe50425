/**
 * Settings, one zod schema per role. Every key is snake_case in YAML and MEDIAFORGE_<KEY> in the
 * environment; the README's settings table is generated from the descriptions here (a test keeps
 * them in step).
 */
import { z } from 'zod';

const seconds = (def: number, max: number, min = 0) => z.coerce.number().min(min).max(max).default(def);

/** Settings every role reads. */
export const CommonSettings = {
  media_root: z.string().min(1).optional().meta({
    description:
      'Folder that bare relative paths resolve under, and that all file paths must stay inside (default: the current directory).',
  }),
  extra_media_roots: z
    .preprocess((v) => (typeof v === 'string' ? v.split(':').filter(Boolean) : v), z.array(z.string().min(1)))
    .default([])
    .meta({
      description: 'More folders file:// and absolute paths may name (`:`-separated in the environment).',
    }),
  ffmpeg: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Path of the ffmpeg binary (default: PATH, then the bundled fallback).' }),
  ffprobe: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Path of the ffprobe binary (default: PATH, then the bundled fallback).' }),
  probe_timeout_seconds: seconds(30, 3600, 1).meta({ description: 'How long ffprobe may take on one file.' }),
  stall_timeout_seconds: seconds(120, 86_400).meta({
    description: 'FFmpeg is stopped (error `stalled`) after this long without progress; 0 disables.',
  }),
  task_timeout_seconds: seconds(0, 7 * 86_400).meta({
    description: 'Wall-clock limit of one FFmpeg run (error `timeout`); 0 means none.',
  }),
  kill_grace_seconds: seconds(5, 600).meta({
    description: 'After SIGTERM, how long FFmpeg gets before SIGKILL.',
  }),
  max_pixels: z.coerce
    .number()
    .int()
    .positive()
    .max(1_000_000_000)
    .default(8192 * 8192)
    .meta({ description: 'Largest input frame (width × height) accepted.' }),
  max_input_seconds: seconds(86_400, 30 * 86_400).meta({ description: 'Longest input accepted.' }),
  threads: z.coerce
    .number()
    .int()
    .min(0)
    .max(256)
    .default(0)
    .meta({ description: 'FFmpeg threads per task; 0 lets FFmpeg decide.' }),
  log_level: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .meta({ description: 'Log verbosity.' }),
};

/** `mediaforge run|plan|probe|doctor|demo`: the local pipeline. */
export const RunConfig = z.strictObject({ ...CommonSettings });
export type RunConfig = z.infer<typeof RunConfig>;

export const ROLES = { run: RunConfig } as const;
export type Role = keyof typeof ROLES;

/** Environment variables read by the launcher scripts, not by a role's schema. */
export const RESERVED_ENV = ['MEDIAFORGE_NODE_DIR', 'MEDIAFORGE_CONFIG'] as const;
