/**
 * Tasks: claimed with FOR UPDATE SKIP LOCKED, fenced by their attempt. A report is applied only
 * when it names the current attempt and the task is still held, so a report from an attempt the
 * orchestrator gave up on changes nothing.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { StoredError, Tables, TasksTable } from './schema.js';
import { json } from './schema.js';

export type TaskRow = Selectable<TasksTable>;

const HELD = sql`('dispatched', 'running')`;

export class TasksRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Claims the most urgent ready task for a worker: a new attempt, dispatched to it. */
  async claimNext(worker: string, session: string): Promise<TaskRow | undefined> {
    const r = await sql<TaskRow>`
      UPDATE tasks SET state = 'dispatched', worker = ${worker}, worker_session = ${session},
             attempt = attempt + 1, progress = NULL, updated_at = now()
      WHERE id = (
        SELECT id FROM tasks WHERE state = 'ready'
        ORDER BY priority DESC, created_at, ordinal
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  /** Claims this ready task for a worker (the scheduler chose it); undefined when someone was faster. */
  async claim(id: string, worker: string, session: string): Promise<TaskRow | undefined> {
    const r = await sql<TaskRow>`
      UPDATE tasks SET state = 'dispatched', worker = ${worker}, worker_session = ${session},
             attempt = attempt + 1, progress = NULL, progress_at = NULL, waiting = NULL, updated_at = now()
      WHERE id = ${id} AND state = 'ready'
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  /** The most urgent ready tasks, in the order they should go out. */
  async ready(limit: number): Promise<TaskRow[]> {
    return this.db
      .selectFrom('tasks')
      .selectAll()
      .where('state', '=', 'ready')
      .orderBy('priority', 'desc')
      .orderBy('created_at')
      .orderBy('ordinal')
      .limit(limit)
      .execute();
  }

  /** Says why a ready task waits (written only when the reason changes). */
  async setWaiting(id: string, reason: string | null): Promise<boolean> {
    const r = await sql`
      UPDATE tasks SET waiting = ${reason}
      WHERE id = ${id} AND state = 'ready' AND waiting IS DISTINCT FROM ${reason}`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /**
   * Running tasks silent for `silentSeconds` (no progress report) although their worker still
   * heartbeats: a hung FFmpeg, by the database's clock.
   */
  async hung(
    silentSeconds: number,
    workerTimeoutSeconds: number,
  ): Promise<Array<{ id: string; job_id: string; attempt: number; worker: string }>> {
    const r = await sql<{ id: string; job_id: string; attempt: number; worker: string }>`
      SELECT t.id, t.job_id, t.attempt, t.worker FROM tasks t JOIN workers w ON w.id = t.worker
      WHERE t.state = 'running' AND w.session = t.worker_session
        AND coalesce(t.progress_at, t.started_at, t.updated_at) < now() - make_interval(secs => ${silentSeconds})
        AND w.last_seen >= now() - make_interval(secs => ${workerTimeoutSeconds})`.execute(this.db);
    return r.rows;
  }

  /** Every held task with its progress, for the registry's view of who runs what. */
  async held(): Promise<Array<Pick<TaskRow, 'id' | 'job_id' | 'worker' | 'attempt' | 'state' | 'progress'>>> {
    return this.db
      .selectFrom('tasks')
      .select(['id', 'job_id', 'worker', 'attempt', 'state', 'progress'])
      .where('state', 'in', ['dispatched', 'running'])
      .where('worker', 'is not', null)
      .execute();
  }

  /** The tasks a worker's session holds now, with their attempts. */
  async heldBy(worker: string, session: string): Promise<Array<{ id: string; attempt: number }>> {
    return this.db
      .selectFrom('tasks')
      .select(['id', 'attempt'])
      .where('worker', '=', worker)
      .where('worker_session', '=', session)
      .where('state', 'in', ['dispatched', 'running'])
      .execute();
  }

  /** A dispatch the worker turned down: ready again (the attempt number stays spent). */
  async undispatch(id: string, attempt: number): Promise<boolean> {
    const r = await this.db
      .updateTable('tasks')
      .set({ state: 'ready', worker: null, worker_session: null, updated_at: new Date() })
      .where('id', '=', id)
      .where('attempt', '=', attempt)
      .where('state', '=', 'dispatched')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async markRunning(id: string, attempt: number): Promise<TaskRow | undefined> {
    const r = await sql<TaskRow>`
      UPDATE tasks SET state = 'running', started_at = now(), progress_at = now(), updated_at = now()
      WHERE id = ${id} AND attempt = ${attempt} AND state = 'dispatched'
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  async saveProgress(id: string, attempt: number, progress: unknown): Promise<TaskRow | undefined> {
    const r = await sql<TaskRow>`
      UPDATE tasks SET progress = ${json(progress)}::jsonb, state = 'running', updated_at = now(),
             progress_at = now(),
             started_at = coalesce(started_at, now())
      WHERE id = ${id} AND attempt = ${attempt} AND state IN ${HELD}
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  /**
   * The task succeeded: store its result and make ready every task of the job whose
   * dependencies have all succeeded now. Returns the task, or undefined for a stale report.
   */
  async succeed(id: string, attempt: number, result: unknown): Promise<TaskRow | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const r = await sql<TaskRow>`
        UPDATE tasks SET state = 'succeeded', result = ${json(result)}::jsonb, error = NULL,
               finished_at = now(), updated_at = now()
        WHERE id = ${id} AND attempt = ${attempt} AND state IN ${HELD}
        RETURNING *`.execute(tx);
      const task = r.rows[0];
      if (!task) return undefined;
      await sql`
        UPDATE tasks t SET state = 'ready', updated_at = now()
        WHERE t.job_id = ${task.job_id} AND t.state = 'blocked'
          AND NOT EXISTS (
            SELECT 1 FROM tasks d WHERE d.job_id = t.job_id AND d.id = ANY (t.deps) AND d.state <> 'succeeded'
          )`.execute(tx);
      return task;
    });
  }

  /**
   * The attempt failed. A retryable failure with attempts left makes the task ready again;
   * otherwise it fails. Returns the new state, or undefined for a stale report.
   */
  async fail(
    id: string,
    attempt: number,
    error: StoredError,
    avoidWorker?: string,
  ): Promise<'ready' | 'failed' | undefined> {
    const r = await sql<{ state: 'ready' | 'failed' }>`
      UPDATE tasks SET
        state = CASE WHEN ${error.retryable} AND failures + 1 < max_attempts THEN 'ready' ELSE 'failed' END,
        failures = failures + 1, error = ${json(error)}::jsonb, worker = NULL, worker_session = NULL,
        avoid_workers = CASE WHEN ${avoidWorker ?? null}::text IS NULL OR ${avoidWorker ?? null}::text = ANY (avoid_workers)
                        THEN avoid_workers ELSE avoid_workers || ${avoidWorker ?? null}::text END,
        finished_at = now(), updated_at = now()
      WHERE id = ${id} AND attempt = ${attempt} AND state IN ${HELD}
      RETURNING state`.execute(this.db);
    return r.rows[0]?.state;
  }

  /** Hands a task back without counting a failure (the worker is shutting down). */
  async release(id: string, attempt: number): Promise<boolean> {
    const r = await sql`
      UPDATE tasks SET state = 'ready', worker = NULL, worker_session = NULL, progress = NULL, updated_at = now()
      WHERE id = ${id} AND attempt = ${attempt} AND state IN ${HELD}`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /**
   * Tasks whose worker is gone: its heartbeat is older than `timeoutSeconds`, or it restarted (its
   * session changed) and so lost them. Each goes back to ready as a failure, or fails when its
   * attempts are used up. Silence is measured by the database's clock, which stamped the heartbeats.
   */
  async rescueLost(
    timeoutSeconds: number,
  ): Promise<Array<{ id: string; job_id: string; state: 'ready' | 'failed'; worker: string }>> {
    const error = json({
      code: 'worker_lost',
      message: 'the worker running this task stopped answering',
      retryable: true,
    });
    const r = await sql<{ id: string; job_id: string; state: 'ready' | 'failed'; worker: string }>`
      UPDATE tasks t SET
        state = CASE WHEN t.failures + 1 < t.max_attempts THEN 'ready' ELSE 'failed' END,
        failures = t.failures + 1, error = ${error}::jsonb, worker = NULL, worker_session = NULL,
        progress = NULL, updated_at = now(),
        avoid_workers = CASE WHEN w.id = ANY (t.avoid_workers) THEN t.avoid_workers ELSE t.avoid_workers || w.id END
      FROM workers w
      WHERE t.worker = w.id AND t.state IN ${HELD}
        AND (w.session <> t.worker_session OR w.last_seen < now() - make_interval(secs => ${timeoutSeconds}))
      RETURNING t.id, t.job_id, t.state, w.id AS worker`.execute(this.db);
    return r.rows;
  }

  /**
   * Unfinished jobs whose tasks are all done (every one succeeded), or that have a failed task:
   * what a crash between a task's transition and its job's can leave behind.
   */
  async jobsToSettle(): Promise<Array<{ job_id: string; failed: boolean; error: unknown }>> {
    const r = await sql<{ job_id: string; failed: boolean; error: unknown }>`
      SELECT j.id AS job_id,
             bool_or(t.state = 'failed') AS failed,
             (array_agg(t.error) FILTER (WHERE t.state = 'failed'))[1] AS error
      FROM jobs j JOIN tasks t ON t.job_id = j.id
      WHERE j.state IN ('pending', 'processing') AND j.stage NOT IN ('probing', 'planning')
      GROUP BY j.id
      HAVING bool_or(t.state = 'failed') OR bool_and(t.state = 'succeeded')
      LIMIT 100`.execute(this.db);
    return r.rows;
  }

  async forJob(jobId: string): Promise<TaskRow[]> {
    return this.db.selectFrom('tasks').selectAll().where('job_id', '=', jobId).orderBy('ordinal').execute();
  }

  async get(id: string): Promise<TaskRow | undefined> {
    return this.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** How many tasks each worker holds now. */
  async heldByWorker(): Promise<Map<string, number>> {
    const rows = await sql<{ worker: string; n: number }>`
      SELECT worker, count(*)::int AS n FROM tasks WHERE state IN ${HELD} AND worker IS NOT NULL GROUP BY worker`.execute(
      this.db,
    );
    return new Map(rows.rows.map((r) => [r.worker, Number(r.n)]));
  }

  async readyCount(): Promise<number> {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM tasks WHERE state = 'ready'`.execute(
      this.db,
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}
