-- mediaforge schema, version 1: accounts, jobs, tasks, workers and the event log.
-- Migrations are never edited once landed: the runner stores each file's SHA-256 and refuses to
-- start when a file it applied has changed. Change the schema with a new numbered file.

CREATE TABLE users (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  role        text NOT NULL CHECK (role IN ('admin', 'user')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are random 32-byte secrets: a SHA-256 of the key is enough to store them (a slow
-- password hash protects guessable secrets, which these are not).
CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL,
  prefix        text NOT NULL,
  hash          text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE jobs (
  id               text PRIMARY KEY,
  seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  owner            text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  state            text NOT NULL CHECK (state IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
  stage            text NOT NULL,
  spec             jsonb NOT NULL,
  request_hash     text NOT NULL,
  plan             jsonb,
  progress         jsonb,
  error            jsonb,
  outputs          jsonb,
  priority         integer NOT NULL DEFAULT 0,
  callback_url     text,
  idempotency_key  text,
  attempts         integer NOT NULL DEFAULT 1,
  -- The replica planning the job and until when its claim holds (a crashed planner's claim lapses).
  planner          text,
  planner_until    timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  completed_at     timestamptz,
  cancelled_at     timestamptz,
  UNIQUE (owner, idempotency_key)
);
CREATE INDEX jobs_owner_seq ON jobs (owner, seq DESC);
CREATE INDEX jobs_state_seq ON jobs (state, seq DESC);
-- The jobs-in-flight limit counts these on every submit: bounded by the limit, not by history.
CREATE INDEX jobs_owner_unfinished ON jobs (owner) WHERE state IN ('pending', 'processing');
CREATE INDEX jobs_to_plan ON jobs (priority DESC, seq) WHERE state = 'pending' AND stage = 'probing';

CREATE TABLE workers (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  url             text,
  state           text NOT NULL CHECK (state IN ('online', 'offline', 'error', 'maintenance')),
  -- Changes on every start of the worker process: tasks held by an older session are lost.
  session         text NOT NULL,
  capabilities    jsonb NOT NULL DEFAULT '{}',
  telemetry       jsonb NOT NULL DEFAULT '{}',
  labels          jsonb NOT NULL DEFAULT '[]',
  max_concurrent  integer NOT NULL DEFAULT 1,
  draining        boolean NOT NULL DEFAULT false,
  last_seen       timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
  id              text PRIMARY KEY,
  job_id          text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  ordinal         integer NOT NULL,
  kind            text NOT NULL,
  spec            jsonb NOT NULL,
  deps            text[] NOT NULL DEFAULT '{}',
  state           text NOT NULL CHECK (state IN ('blocked', 'ready', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled')),
  priority        integer NOT NULL DEFAULT 0,
  worker          text REFERENCES workers (id) ON DELETE SET NULL,
  worker_session  text,
  -- The fencing token: raised on every dispatch; a report naming an older attempt is refused.
  attempt         integer NOT NULL DEFAULT 0,
  -- Attempts that ended in a retryable failure or a lost worker; at max_attempts the task fails.
  failures        integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL DEFAULT 3,
  progress        jsonb,
  result          jsonb,
  error           jsonb,
  requirements    jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX tasks_job ON tasks (job_id, ordinal);
CREATE INDEX tasks_ready ON tasks (priority DESC, created_at) WHERE state = 'ready';
CREATE INDEX tasks_held ON tasks (worker) WHERE state IN ('dispatched', 'running');

-- The log of everything that happened to a job, a task or a worker: it feeds SSE (ids are the
-- SSE event ids), webhooks and the audit trail.
CREATE TABLE events (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id      text REFERENCES jobs (id) ON DELETE CASCADE,
  task_id     text,
  worker_id   text,
  type        text NOT NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_job ON events (job_id, id);

-- Every new event wakes whoever listens, in this process (PGlite) or on any replica (PostgreSQL).
-- Notifications are per database, not per schema: the payload names the schema, and listeners
-- of other deployments sharing the database ignore it.
CREATE FUNCTION mediaforge_notify_event() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('mediaforge_events', json_build_object(
    'schema', TG_TABLE_SCHEMA, 'id', NEW.id, 'job', NEW.job_id, 'type', NEW.type)::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT ON events
  FOR EACH ROW EXECUTE FUNCTION mediaforge_notify_event();
