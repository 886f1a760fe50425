/**
 * The tables as Kysely sees them (migrations/ is the truth; this mirrors it). JSON columns are
 * written as JSON text (`json()`), so both drivers store exactly what was serialised.
 */
import type { ColumnType, Generated } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;
type JsonOrNull<T> = ColumnType<T | null, string | null | undefined, string | null>;
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type StampOrNull = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type JobState = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';
export type TaskState = 'blocked' | 'ready' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type Role = 'admin' | 'user';
export type WorkerStatus = 'idle' | 'busy' | 'error' | 'maintenance';

export interface StoredError {
  code: string;
  message: string;
  retryable: boolean;
}

export interface UsersTable {
  id: string;
  name: string;
  role: Role;
  created_at: Stamp;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  hash: string;
  created_at: Stamp;
  last_used_at: StampOrNull;
  revoked_at: StampOrNull;
}

export interface JobsTable {
  id: string;
  seq: Generated<number>;
  owner: string;
  state: JobState;
  stage: string;
  spec: Json<unknown>;
  request_hash: string;
  plan: JsonOrNull<unknown>;
  progress: JsonOrNull<unknown>;
  error: JsonOrNull<StoredError>;
  outputs: JsonOrNull<unknown[]>;
  priority: Generated<number>;
  callback_url: string | null;
  idempotency_key: string | null;
  attempts: Generated<number>;
  planner: string | null;
  planner_until: StampOrNull;
  created_at: Stamp;
  updated_at: Stamp;
  started_at: StampOrNull;
  completed_at: StampOrNull;
  cancelled_at: StampOrNull;
}

export interface WorkersTable {
  id: string;
  name: string;
  url: string | null;
  state: 'online' | 'offline' | 'error' | 'maintenance';
  session: string;
  capabilities: Json<Record<string, unknown>>;
  telemetry: JsonWithDefault<Record<string, unknown>>;
  labels: Json<string[]>;
  max_concurrent: Generated<number>;
  draining: Generated<boolean>;
  last_seen: Stamp;
  created_at: Stamp;
  secret_hash: string | null;
  call_secret: string | null;
  token_id: string | null;
  status: Generated<WorkerStatus>;
  reason: string | null;
  version: string | null;
  breaker: JsonWithDefault<Record<string, unknown>>;
  overrides: JsonWithDefault<{ max_concurrent?: number; labels?: string[] }>;
}

export interface WorkerTokensTable {
  id: string;
  name: string;
  prefix: string;
  hash: string;
  created_by: string | null;
  created_at: Stamp;
  expires_at: StampOrNull;
  revoked_at: StampOrNull;
  uses: Generated<number>;
}

export interface TasksTable {
  id: string;
  job_id: string;
  ordinal: number;
  kind: string;
  spec: Json<unknown>;
  deps: ColumnType<string[], string[] | undefined, string[]>;
  state: TaskState;
  priority: Generated<number>;
  worker: string | null;
  worker_session: string | null;
  attempt: Generated<number>;
  failures: Generated<number>;
  max_attempts: Generated<number>;
  progress: JsonOrNull<unknown>;
  result: JsonOrNull<unknown>;
  error: JsonOrNull<StoredError>;
  requirements: Json<Record<string, unknown>>;
  created_at: Stamp;
  updated_at: Stamp;
  started_at: StampOrNull;
  finished_at: StampOrNull;
  progress_at: StampOrNull;
  avoid_workers: ColumnType<string[], string[] | undefined, string[]>;
  waiting: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  job_id: string | null;
  task_id: string | null;
  worker_id: string | null;
  type: string;
  data: JsonWithDefault<Record<string, unknown>>;
  created_at: Stamp;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  sha256: string;
  applied_at: Stamp;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: Stamp;
}

export interface Tables {
  users: UsersTable;
  api_keys: ApiKeysTable;
  jobs: JobsTable;
  workers: WorkersTable;
  worker_tokens: WorkerTokensTable;
  tasks: TasksTable;
  events: EventsTable;
  schema_migrations: SchemaMigrationsTable;
  server_secrets: ServerSecretsTable;
}

export const json = (v: unknown): string => JSON.stringify(v);
