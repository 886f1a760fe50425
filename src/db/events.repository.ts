/** The event log: read back for SSE replay and for a job's logs. */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { EventsTable, Tables } from './schema.js';
import { json } from './schema.js';

export type EventRow = Selectable<EventsTable>;

export class EventsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /**
   * Appends an event. One of a job takes the job's row lock first, like every statement that
   * changes the job: a job's events then get their ids in the order they commit, so a reader
   * that follows ids never skips one that commits late.
   */
  async append(e: {
    jobId?: string | null;
    taskId?: string;
    workerId?: string;
    type: string;
    data: Record<string, unknown>;
  }): Promise<void> {
    if (!e.jobId) {
      await this.db
        .insertInto('events')
        .values({
          job_id: null,
          task_id: e.taskId ?? null,
          worker_id: e.workerId ?? null,
          type: e.type,
          data: json(e.data),
        })
        .execute();
      return;
    }
    await sql`
      WITH l AS (SELECT id FROM jobs WHERE id = ${e.jobId} FOR NO KEY UPDATE)
      INSERT INTO events (job_id, task_id, worker_id, type, data)
      SELECT l.id, ${e.taskId ?? null}, ${e.workerId ?? null}, ${e.type}, ${json(e.data)}::jsonb FROM l`.execute(
      this.db,
    );
  }

  /** Events of a job after `afterId`, oldest first. */
  async since(
    jobId: string,
    afterId: number,
    opts: { types?: string[]; limit?: number } = {},
  ): Promise<EventRow[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(opts.limit ?? 1000);
    if (opts.types) q = q.where('type', 'in', opts.types);
    return q.execute();
  }
}
