/** The event log: read back for SSE replay and for a job's logs. */
import type { Kysely, Selectable } from 'kysely';
import type { EventsTable, Tables } from './schema.js';
import { json } from './schema.js';

export type EventRow = Selectable<EventsTable>;

export class EventsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  async append(e: {
    jobId: string | null;
    taskId?: string;
    workerId?: string;
    type: string;
    data: Record<string, unknown>;
  }) {
    await this.db
      .insertInto('events')
      .values({
        job_id: e.jobId,
        task_id: e.taskId ?? null,
        worker_id: e.workerId ?? null,
        type: e.type,
        data: json(e.data),
      })
      .execute();
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
