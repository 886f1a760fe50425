-- mediaforge schema, version 2: remote workers — enrolment tokens, a secret per worker, what its
-- heartbeats say, the circuit breaker, and what the scheduler needs to know about each task.

-- An admin hands an enrolment token to a new machine; the worker trades it for its own id and
-- secret (POST /api/v1/workers) and never needs it again. Stored as SHA-256, like API keys.
CREATE TABLE worker_tokens (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  prefix      text NOT NULL,
  hash        text NOT NULL UNIQUE,
  created_by  text REFERENCES users (id) ON DELETE SET NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  uses        integer NOT NULL DEFAULT 0
);

-- The worker's own secret (SHA-256), presented on every call it makes.
ALTER TABLE workers ADD COLUMN secret_hash text UNIQUE;
-- The secret the orchestrator presents when it calls the worker: new for every session, known to
-- both sides (the orchestrator must send it), and useless for anything but calling that worker.
ALTER TABLE workers ADD COLUMN call_secret text;
ALTER TABLE workers ADD COLUMN token_id text REFERENCES worker_tokens (id) ON DELETE SET NULL;
-- What the last heartbeat said: idle, busy, error or maintenance, and why.
ALTER TABLE workers ADD COLUMN status text NOT NULL DEFAULT 'idle'
  CHECK (status IN ('idle', 'busy', 'error', 'maintenance'));
ALTER TABLE workers ADD COLUMN reason text;
ALTER TABLE workers ADD COLUMN version text;
-- What an admin set (PATCH): max_concurrent and labels here win over what the worker reports.
ALTER TABLE workers ADD COLUMN overrides jsonb NOT NULL DEFAULT '{}';
-- Consecutive worker-side failures and until when the worker is kept aside.
ALTER TABLE workers ADD COLUMN breaker jsonb NOT NULL DEFAULT '{}';

-- When the running attempt last reported progress: a task silent while its worker still
-- heartbeats is a hung FFmpeg.
ALTER TABLE tasks ADD COLUMN progress_at timestamptz;
-- Workers this task failed on for worker-side reasons: it is not sent to them again.
ALTER TABLE tasks ADD COLUMN avoid_workers text[] NOT NULL DEFAULT '{}';
-- Why a ready task is still waiting ("waiting for a worker with an hevc encoder"), or null.
ALTER TABLE tasks ADD COLUMN waiting text;
