/** A job as the API shows it (the pipeline seed's shape, with `stage` for detail). */
import type { JobRow } from '../db/index.js';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function jobView(j: JobRow) {
  return {
    job_id: j.id,
    status: j.state,
    stage: j.stage,
    progress: j.progress ?? {
      overall_percent: j.state === 'completed' ? 100 : 0,
      current_step: j.stage,
      tasks: [],
      fps: null,
      speed: null,
      eta_seconds: null,
    },
    error: j.error,
    output_files: j.outputs ?? [],
    spec: j.spec,
    priority: j.priority,
    callback_url: j.callback_url,
    idempotency_key: j.idempotency_key,
    attempts: j.attempts,
    created_at: iso(j.created_at),
    updated_at: iso(j.updated_at),
    started_at: iso(j.started_at),
    completed_at: iso(j.completed_at),
    cancelled_at: iso(j.cancelled_at),
  };
}
