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

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** What a worker's encoders may be: `mediaforge worker`, and the local worker of `up`. */
const EncoderSettings = {
  hardware: z.enum(['auto', 'on', 'off']).default('auto').meta({
    description:
      'Hardware encoders: auto uses those that pass the probe, on warns when none does, off never uses them.',
  }),
  vaapi_device: z
    .string()
    .min(1)
    .default('/dev/dri/renderD128')
    .meta({ description: 'DRM render node for VAAPI.' }),
  probe_seconds: int(120, 0, 3600).meta({
    description:
      'Time allowed for the encoder probe (a short test encode per encoder, kept in data_dir until FFmpeg or these settings change); 0 encodes nothing and advertises the software encoders FFmpeg lists, unmeasured.',
  }),
};

/** `mediaforge up` and `mediaforge orchestrator`: the control plane (and, for up, its local worker). */
export const OrchestratorConfig = z.strictObject({
  ...CommonSettings,
  data_dir: z.string().min(1).default('data').meta({
    description:
      'Folder of the embedded database (`db/`), the admin key file and, by default, the media root (`media/`).',
  }),
  database_url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional()
    .meta({
      description: 'PostgreSQL server to use instead of the embedded database (also read from DATABASE_URL).',
    }),
  database_schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a plain lower-case identifier')
    .optional()
    .meta({ description: "PostgreSQL schema holding the tables (default: the server's search_path)." }),
  host: z.string().min(1).default('127.0.0.1').meta({ description: 'Address the HTTP API listens on.' }),
  port: int(8080, 0, 65_535).meta({ description: 'Port of the HTTP API; 0 picks a free one.' }),
  admin_key: z.string().min(16, 'must be at least 16 characters').max(512).optional().meta({
    description:
      'The admin API key; when unset one is generated on first start and saved in the data folder.',
  }),
  body_limit_bytes: int(1_048_576, 1024, 64 * 1_048_576).meta({
    description: 'Largest request body accepted (413 above).',
  }),
  max_inputs: int(16, 1, 16).meta({ description: 'Most inputs one job may have (at most 16).' }),
  max_operations: int(64, 1, 64).meta({ description: 'Most operations one job may have (at most 64).' }),
  max_outputs: int(16, 1, 16).meta({ description: 'Most outputs one job may have (at most 16).' }),
  rate_limit_per_minute: int(6000, 0, 10_000_000).meta({
    description: 'Requests per minute per API key (429 above); 0 turns the limit off.',
  }),
  max_jobs_in_flight: int(1000, 1, 10_000_000).meta({
    description: 'Most pending or processing jobs per user (429 above).',
  }),
  cors_origins: z
    .preprocess(
      (v) =>
        typeof v === 'string'
          ? v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : v,
      z.array(z.string().min(1)),
    )
    .default([])
    .meta({ description: 'Origins allowed to call the API from a browser (`,`-separated; `*` for any).' }),
  retention_days: seconds(30, 36_500).meta({
    description: 'Finished jobs and their events are deleted after this many days; 0 keeps them.',
  }),
  max_attempts: int(3, 1, 100).meta({
    description: 'Attempts of a task (after a lost worker or a retryable failure) before its job fails.',
  }),
  shutdown_grace_seconds: seconds(30, 3600).meta({
    description: 'On SIGTERM, how long running tasks may finish before they are stopped and handed back.',
  }),
  worker_timeout_seconds: seconds(45, 3600, 1).meta({
    description: 'A worker not heard from for this long is offline and its tasks are re-queued.',
  }),
  hung_task_seconds: seconds(180, 86_400).meta({
    description:
      'A running task with no progress for this long, while its worker still heartbeats, is stopped and re-queued; 0 disables.',
  }),
  ...EncoderSettings,
  local_worker_slots: int(0, 0, 64).meta({
    description: 'Tasks the local worker of `up` runs at once; 0 picks from cores and memory (1 on 2 cores).',
  }),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfig>;

const list = (sep: string) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(sep)
            .map((x) => x.trim())
            .filter(Boolean)
        : v,
    z.array(z.string().min(1).max(200)),
  );

/** `mediaforge worker`: a machine that runs tasks for an orchestrator. */
export const WorkerConfig = z.strictObject({
  ...CommonSettings,
  orchestrator_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta({
      description: 'The orchestrator this worker serves (`--orchestrator`).',
    }),
  enrolment_token: z.string().min(16).max(512).optional().meta({
    description:
      'Enrolment token from `mediaforge token create --worker` (`--token`); needed only until the worker has its own secret.',
  }),
  name: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'Name shown in the registry (default: the host name).' }),
  data_dir: z.string().min(1).default('worker-data').meta({
    description:
      "Folder of the worker's identity (id and secret, mode 0600) and its journal of undelivered reports.",
  }),
  host: z.string().min(1).default('0.0.0.0').meta({ description: 'Address the worker API listens on.' }),
  port: int(8081, 0, 65_535).meta({ description: 'Port of the worker API; 0 picks a free one.' }),
  advertised_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta({
      description: 'URL the orchestrator calls this worker at (default: http://<host name>:<port>).',
    }),
  max_concurrent: int(0, 0, 256).meta({
    description: 'Tasks run at once; 0 picks from cores and memory (1 on a 2-core board).',
  }),
  queue_length: int(0, 0, 1000).meta({
    description: 'Tasks accepted beyond max_concurrent, waiting their turn (429 above).',
  }),
  ...EncoderSettings,
  labels: list(',').default([]).meta({
    description: 'Labels for task routing (`,`-separated), e.g. `gpu,site=paris`.',
  }),
  path_mappings: list(',').default([]).meta({
    description:
      'Orchestrator path prefix → local prefix, `FROM=TO` (`,`-separated), applied to every source and destination, e.g. `/mnt/nas=/Volumes/nas`.',
  }),
  scratch_dir: z.string().min(1).optional().meta({
    description:
      'Folder for inputs fetched and outputs staged when there is no shared storage (default: data_dir/scratch).',
  }),
  heartbeat_seconds: seconds(5, 300, 1).meta({ description: 'Seconds between heartbeats.' }),
  storage_check_seconds: seconds(30, 3600, 1).meta({
    description: 'Seconds between checks that the media roots are readable and writable.',
  }),
  shutdown_grace_seconds: seconds(30, 3600).meta({
    description:
      'On SIGTERM or a drain, how long running tasks may finish before they are stopped and handed back.',
  }),
});
export type WorkerConfig = z.infer<typeof WorkerConfig>;

export const ROLES = { run: RunConfig, orchestrator: OrchestratorConfig, worker: WorkerConfig } as const;
export type Role = keyof typeof ROLES;

/** Environment variables read by the launcher scripts, not by a role's schema. */
export const RESERVED_ENV = [
  'MEDIAFORGE_NODE_DIR',
  'MEDIAFORGE_CONFIG',
  // The CLI client's server and key, and the test suite's database.
  'MEDIAFORGE_URL',
  'MEDIAFORGE_KEY',
  'MEDIAFORGE_TEST_DATABASE_URL',
] as const;
