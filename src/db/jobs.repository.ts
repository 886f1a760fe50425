/**
 * Jobs. Every change of state is one statement guarded by the state it expects, and the event
 * that tells of it is written by the same statement (a data-modifying CTE), so a double cancel,
 * a late report or a crash between two writes cannot leave the log and the row disagreeing.
 */
import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import type { JobState, JobsTable, StoredError, Tables } from './schema.js';
import { json } from './schema.js';

export type JobRow = Selectable<JobsTable>;

export interface NewJob {
  id: string;
  owner: string;
  spec: unknown;
  requestHash: string;
  priority: number;
  callbackUrl: string | null;
  idempotencyKey: string | null;
  /** The most unfinished jobs an owner may have; the insert does nothing at the limit. */
  maxInFlight: number;
}

/** What a submit answers with; the rest of the row (the spec) is not read back. */
export type JobHead = Pick<JobRow, 'id' | 'state' | 'created_at'>;

export type InsertResult =
  | { kind: 'created'; job: JobHead }
  | { kind: 'existing'; job: JobHead }
  | { kind: 'conflict' }
  | { kind: 'limit' };

export interface ListFilter {
  owner?: string | undefined;
  state?: JobState | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  /** Jobs older than this seq (the cursor). */
  beforeSeq?: number | undefined;
  offset?: number | undefined;
  limit: number;
}

export interface StopTask {
  id: string;
  worker: string | null;
  attempt: number;
}

/** How many unfinished jobs the owner (an SQL expression) has: what max_jobs_in_flight bounds. */
const unfinishedOf = (owner: RawBuilder<unknown>) =>
  sql`(SELECT count(*) FROM jobs u WHERE u.owner = ${owner} AND u.state IN ('pending', 'processing'))`;

/** More than the submits that can run at once: every replica's pool (10) several times over. */
const FAST_PATH_MARGIN = 64;

export class JobsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /**
   * Creates the job unless the owner is at the limit of unfinished jobs or the idempotency key
   * was used. Counting and inserting in one statement is exact only without concurrency (each
   * statement counts what had committed when it started), so: far below the limit, one
   * statement (at most FAST_PATH_MARGIN submits run at once across the replicas' pools, so they
   * cannot cross it); near it, the owner's submits queue on an advisory lock and count afresh.
   */
  async insert(j: NewJob): Promise<InsertResult> {
    if (j.maxInFlight > FAST_PATH_MARGIN) {
      const fast = await this.#insertUnder(this.db, j, j.maxInFlight - FAST_PATH_MARGIN);
      if (fast.kind !== 'limit') return fast;
    }
    return this.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`mediaforge-in-flight:${j.owner}`}, 0))`.execute(
        tx,
      );
      return this.#insertUnder(tx, j, j.maxInFlight);
    });
  }

  async #insertUnder(db: Kysely<Tables>, j: NewJob, limit: number): Promise<InsertResult> {
    const rows = await sql<JobHead>`
      WITH j AS (
        INSERT INTO jobs (id, owner, state, stage, spec, request_hash, priority, callback_url, idempotency_key)
        SELECT ${j.id}, ${j.owner}, 'pending', 'probing', ${json(j.spec)}::jsonb, ${j.requestHash},
               ${j.priority}, ${j.callbackUrl}, ${j.idempotencyKey}
        WHERE ${unfinishedOf(sql`${j.owner}`)} < ${limit}
        ON CONFLICT (owner, idempotency_key) DO NOTHING
        RETURNING id, state, created_at
      ), e AS (
        INSERT INTO events (job_id, type, data)
        SELECT id, 'job.created', jsonb_build_object('status', 'pending', 'stage', 'probing') FROM j
      )
      SELECT * FROM j`.execute(db);
    const created = rows.rows[0];
    if (created) return { kind: 'created', job: created };
    if (j.idempotencyKey !== null) {
      const prior = await db
        .selectFrom('jobs')
        .select(['id', 'state', 'created_at', 'request_hash'])
        .where('owner', '=', j.owner)
        .where('idempotency_key', '=', j.idempotencyKey)
        .executeTakeFirst();
      if (prior)
        return prior.request_hash === j.requestHash ? { kind: 'existing', job: prior } : { kind: 'conflict' };
    }
    return { kind: 'limit' };
  }

  /** Only the stage: what a progress update needs of the job (its row holds the spec and plan). */
  async stage(id: string): Promise<string | undefined> {
    return (await this.db.selectFrom('jobs').select('stage').where('id', '=', id).executeTakeFirst())?.stage;
  }

  async get(id: string, owner?: string): Promise<JobRow | undefined> {
    let q = this.db.selectFrom('jobs').selectAll().where('id', '=', id);
    if (owner) q = q.where('owner', '=', owner);
    return q.executeTakeFirst();
  }

  async list(f: ListFilter): Promise<{ rows: JobRow[]; total: number }> {
    let q = this.db.selectFrom('jobs');
    if (f.owner) q = q.where('owner', '=', f.owner);
    if (f.state) q = q.where('state', '=', f.state);
    if (f.createdAfter) q = q.where('created_at', '>', f.createdAfter);
    if (f.createdBefore) q = q.where('created_at', '<', f.createdBefore);
    const totalRow = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    let page = q.selectAll().orderBy('seq', 'desc').limit(f.limit);
    if (f.beforeSeq !== undefined) page = page.where('seq', '<', f.beforeSeq);
    if (f.offset) page = page.offset(f.offset);
    return { rows: await page.execute(), total: Number(totalRow.n) };
  }

  /** Claims the next job waiting to be planned (or one whose planner's claim lapsed). */
  async claimForPlanning(planner: string, leaseSeconds: number): Promise<JobRow | undefined> {
    const r = await sql<JobRow>`
      UPDATE jobs SET stage = 'planning', planner = ${planner},
             planner_until = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
      WHERE id = (
        SELECT id FROM jobs
        WHERE state = 'pending' AND (stage = 'probing' OR (stage = 'planning' AND planner_until < now()))
        ORDER BY priority DESC, seq
        LIMIT 1
        FOR UPDATE SKIP LOCKED
      )
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  /**
   * Stores the plan and its tasks, if the job is still this planner's to plan. The tasks whose
   * dependencies are all met start ready; the others blocked.
   */
  async savePlan(
    jobId: string,
    planner: string,
    plan: unknown,
    tasks: Array<{
      id: string;
      ordinal: number;
      kind: string;
      spec: unknown;
      deps: string[];
      requirements: unknown;
    }>,
    maxAttempts: number,
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const r = await sql`
        WITH j AS (
          UPDATE jobs SET stage = 'queued', plan = ${json(plan)}::jsonb, planner = NULL, planner_until = NULL,
                 updated_at = now()
          WHERE id = ${jobId} AND state = 'pending' AND stage = 'planning' AND planner = ${planner}
          RETURNING id, priority
        )
        INSERT INTO events (job_id, type, data)
        SELECT id, 'job.planned', jsonb_build_object('status', 'pending', 'stage', 'queued', 'tasks', ${tasks.length}::int)
        FROM j
        RETURNING job_id`.execute(tx);
      if (r.rows.length === 0) return false;
      const job = await tx
        .selectFrom('jobs')
        .select('priority')
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      for (const t of tasks)
        await tx
          .insertInto('tasks')
          .values({
            id: t.id,
            job_id: jobId,
            ordinal: t.ordinal,
            kind: t.kind,
            spec: json(t.spec),
            deps: t.deps,
            state: t.deps.length === 0 ? 'ready' : 'blocked',
            priority: job.priority,
            max_attempts: maxAttempts,
            requirements: json(t.requirements),
          })
          .execute();
      return true;
    });
  }

  /** Fails an unfinished job and cancels its open tasks; returns the tasks a worker must stop, or null when the job was already finished. */
  /** `planner` limits it to a job still claimed by that planner. */
  async fail(
    jobId: string,
    error: StoredError,
    logTail?: string,
    guard: { planner?: string } = {},
  ): Promise<StopTask[] | null> {
    return this.finish(jobId, 'failed', error, logTail, undefined, guard.planner);
  }

  async cancel(jobId: string, owner?: string): Promise<StopTask[] | null> {
    return this.finish(jobId, 'cancelled', null, undefined, owner);
  }

  private async finish(
    jobId: string,
    to: 'failed' | 'cancelled',
    error: StoredError | null,
    logTail: string | undefined,
    owner?: string,
    planner?: string,
  ): Promise<StopTask[] | null> {
    return this.db.transaction().execute(async (tx) => {
      const j = await sql<{ id: string }>`
        WITH j AS (
          UPDATE jobs SET state = ${to}, stage = ${to}, error = ${error === null ? null : json(error)}::jsonb,
                 planner = NULL, planner_until = NULL, updated_at = now(),
                 completed_at = CASE WHEN ${to} = 'failed' THEN now() ELSE completed_at END,
                 cancelled_at = CASE WHEN ${to} = 'cancelled' THEN now() ELSE cancelled_at END
          WHERE id = ${jobId} AND state IN ('pending', 'processing') ${owner ? sql`AND owner = ${owner}` : sql``}
            ${planner ? sql`AND stage = 'planning' AND planner = ${planner}` : sql``}
          RETURNING id
        ), e AS (
          INSERT INTO events (job_id, type, data)
          SELECT id, ${`job.${to}`}, jsonb_build_object('status', ${to}::text, 'error', ${error === null ? null : json(error)}::jsonb)
          FROM j
        ), l AS (
          INSERT INTO events (job_id, type, data)
          SELECT id, 'log', jsonb_build_object('level', 'error', 'stage', 'encoding', 'message', ${logTail ?? null}::text)
          FROM j WHERE ${logTail ?? null}::text IS NOT NULL
        )
        SELECT id FROM j`.execute(tx);
      if (j.rows.length === 0) return null;
      const stopped = await sql<StopTask>`
        UPDATE tasks SET state = 'cancelled', finished_at = now(), updated_at = now()
        WHERE job_id = ${jobId} AND state IN ('blocked', 'ready', 'dispatched', 'running')
        RETURNING id, worker, attempt`.execute(tx);
      return stopped.rows.filter((t) => t.worker !== null);
    });
  }

  /** A failed or cancelled job back to the start: a new attempt, planned afresh. */
  async retry(
    jobId: string,
    owner?: string,
    maxInFlight = Number.MAX_SAFE_INTEGER,
  ): Promise<JobRow | undefined> {
    return this.db.transaction().execute(async (tx) => {
      const r = await sql<JobRow>`
        WITH j AS (
          UPDATE jobs SET state = 'pending', stage = 'probing', error = NULL, plan = NULL, progress = NULL,
                 outputs = NULL, attempts = attempts + 1, started_at = NULL, completed_at = NULL,
                 cancelled_at = NULL, updated_at = now()
          WHERE id = ${jobId} AND state IN ('failed', 'cancelled') ${owner ? sql`AND owner = ${owner}` : sql``}
            AND ${unfinishedOf(sql.ref('jobs.owner'))} < ${maxInFlight}
          RETURNING *
        ), e AS (
          INSERT INTO events (job_id, type, data)
          SELECT id, 'job.retried', jsonb_build_object('status', 'pending', 'stage', 'probing', 'attempts', attempts) FROM j
        )
        SELECT * FROM j`.execute(tx);
      const job = r.rows[0];
      if (job) await tx.deleteFrom('tasks').where('job_id', '=', jobId).execute();
      return job;
    });
  }

  /** The first task of the job started: pending → processing. */
  async markProcessing(jobId: string): Promise<void> {
    await sql`
      WITH j AS (
        UPDATE jobs SET state = 'processing', stage = 'encoding', started_at = coalesce(started_at, now()),
               updated_at = now()
        WHERE id = ${jobId} AND state = 'pending' AND stage = 'queued'
        RETURNING id
      )
      INSERT INTO events (job_id, type, data)
      SELECT id, 'job.processing', jsonb_build_object('status', 'processing', 'stage', 'encoding') FROM j`.execute(
      this.db,
    );
  }

  async saveProgress(jobId: string, progress: unknown, withEvent: boolean): Promise<void> {
    await sql`
      WITH j AS (
        UPDATE jobs SET progress = ${json(progress)}::jsonb, updated_at = now()
        WHERE id = ${jobId} AND state = 'processing'
        RETURNING id
      )
      INSERT INTO events (job_id, type, data)
      SELECT id, 'job.progress', ${json(progress)}::jsonb FROM j WHERE ${withEvent}`.execute(this.db);
  }

  async complete(jobId: string, outputs: unknown[], progress: unknown): Promise<boolean> {
    const r = await sql<{ id: string }>`
      WITH j AS (
        UPDATE jobs SET state = 'completed', stage = 'completed', outputs = ${json(outputs)}::jsonb,
               progress = ${json(progress)}::jsonb, completed_at = now(), updated_at = now()
        WHERE id = ${jobId} AND state = 'processing'
        RETURNING id
      ), e AS (
        INSERT INTO events (job_id, type, data)
        SELECT id, 'job.completed', jsonb_build_object('status', 'completed', 'outputs', ${json(outputs)}::jsonb) FROM j
      )
      SELECT id FROM j`.execute(this.db);
    return r.rows.length > 0;
  }

  async countByState(): Promise<Record<JobState, number>> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out = { pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  /** Removes finished jobs (their tasks and events go with them) older than `before`. */
  async prune(before: Date): Promise<number> {
    const r = await this.db
      .deleteFrom('jobs')
      .where('state', 'in', ['completed', 'failed', 'cancelled'])
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
