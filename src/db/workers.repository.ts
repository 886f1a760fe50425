/** The worker registry: who is there, since when, and with what session. */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Tables, WorkersTable } from './schema.js';
import { json } from './schema.js';

export type WorkerRow = Selectable<WorkersTable>;

export interface WorkerRegistration {
  id: string;
  name: string;
  url: string | null;
  session: string;
  capabilities: Record<string, unknown>;
  maxConcurrent: number;
  labels: string[];
}

export class WorkersRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** Registers a worker (or a new session of it): online, seen now. */
  async register(w: WorkerRegistration): Promise<void> {
    const values = {
      id: w.id,
      name: w.name,
      url: w.url,
      state: 'online' as const,
      session: w.session,
      capabilities: json(w.capabilities),
      labels: json(w.labels),
      max_concurrent: w.maxConcurrent,
      last_seen: sql<Date>`now()`,
    };
    await this.db
      .insertInto('workers')
      .values(values)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          name: values.name,
          url: values.url,
          state: 'online',
          session: values.session,
          capabilities: values.capabilities,
          labels: values.labels,
          max_concurrent: values.max_concurrent,
          draining: false,
          last_seen: values.last_seen,
        }),
      )
      .execute();
  }

  /** A heartbeat of the current session; false when the worker is unknown or restarted since. */
  async heartbeat(id: string, session: string, telemetry: Record<string, unknown> = {}): Promise<boolean> {
    const r = await this.db
      .updateTable('workers')
      .set({ last_seen: sql<Date>`now()`, telemetry: json(telemetry) })
      .where('id', '=', id)
      .where('session', '=', session)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async setState(id: string, session: string, state: WorkerRow['state'], draining = false): Promise<void> {
    await this.db
      .updateTable('workers')
      .set({ state, draining })
      .where('id', '=', id)
      .where('session', '=', session)
      .execute();
  }

  /**
   * Workers that may take work: online, not draining, heard from within `timeoutSeconds` (by the
   * database's clock, the one that stamped the heartbeat: replicas' clocks may differ).
   */
  async available(timeoutSeconds: number): Promise<WorkerRow[]> {
    return this.db
      .selectFrom('workers')
      .selectAll()
      .where('state', '=', 'online')
      .where('draining', '=', false)
      .where('last_seen', '>=', sql<Date>`now() - make_interval(secs => ${timeoutSeconds})`)
      .orderBy('id')
      .execute();
  }

  async list(): Promise<WorkerRow[]> {
    return this.db.selectFrom('workers').selectAll().orderBy('name').execute();
  }
}
