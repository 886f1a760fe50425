/**
 * The worker registry: enrolment tokens, who is there, since when, with what session, and what
 * its heartbeats say. Secrets are stored as SHA-256 (they are random, not guessable passwords).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Tables, WorkerStatus, WorkersTable } from './schema.js';
import { json } from './schema.js';

export type WorkerRow = Selectable<WorkersTable>;
/** A worker row with its silence measured by the database clock. */
export type WorkerWithAge = WorkerRow & { silent_seconds: number };

export interface WorkerRegistration {
  id: string;
  name: string;
  url: string | null;
  session: string;
  capabilities: Record<string, unknown>;
  maxConcurrent: number;
  labels: string[];
  version?: string | null;
  callSecret?: string | null;
}

export interface Heartbeat {
  status: WorkerStatus;
  reason: string | null;
  telemetry: Record<string, unknown>;
  capabilities?: Record<string, unknown>;
}

export interface WorkerTokenView {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  uses: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** `mfe_…` enrolment tokens, `mfw_…` worker secrets, `mfc_…` the orchestrator's calls to a worker. */
export const newSecret = (prefix: 'mfe' | 'mfw' | 'mfc'): string =>
  `${prefix}_${randomBytes(32).toString('base64url')}`;

/** The state a heartbeat's status puts the worker in. */
const stateOf = (status: WorkerStatus): WorkerRow['state'] =>
  status === 'error' ? 'error' : status === 'maintenance' ? 'maintenance' : 'online';

export class WorkersRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  // ---- enrolment tokens

  async createToken(
    name: string,
    createdBy: string | null,
    ttlSeconds: number | null,
  ): Promise<{ id: string; token: string; expires_at: Date | null }> {
    const token = newSecret('mfe');
    const id = randomUUID();
    const expires_at = ttlSeconds ? new Date(Date.now() + ttlSeconds * 1000) : null;
    await this.db
      .insertInto('worker_tokens')
      .values({
        id,
        name,
        prefix: token.slice(0, 10),
        hash: sha256(token),
        created_by: createdBy,
        expires_at,
      })
      .execute();
    return { id, token, expires_at };
  }

  async listTokens(): Promise<WorkerTokenView[]> {
    return this.db
      .selectFrom('worker_tokens')
      .select(['id', 'name', 'prefix', 'created_at', 'expires_at', 'revoked_at', 'uses'])
      .orderBy('created_at')
      .execute();
  }

  async revokeToken(id: string): Promise<boolean> {
    const r = await this.db
      .updateTable('worker_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Trades a valid enrolment token for a new worker id and secret (one statement: the token is
   * counted only if it is valid, and the worker is created only then). Null for a bad token.
   */
  async enrol(
    token: string,
    w: { name: string; url: string | null; maxConcurrent: number; labels: string[] },
  ): Promise<{ id: string; secret: string } | null> {
    const id = `w-${randomBytes(6).toString('hex')}`;
    const secret = newSecret('mfw');
    const r = await sql<{ id: string }>`
      WITH t AS (
        UPDATE worker_tokens SET uses = uses + 1
        WHERE hash = ${sha256(token)} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        RETURNING id
      )
      INSERT INTO workers (id, name, url, state, session, labels, max_concurrent, secret_hash, token_id, last_seen)
      SELECT ${id}, ${w.name}, ${w.url}, 'offline', '', ${json(w.labels)}::jsonb, ${w.maxConcurrent},
             ${sha256(secret)}, t.id, now()
      FROM t
      RETURNING id`.execute(this.db);
    return r.rows[0] ? { id, secret } : null;
  }

  /** The worker a secret belongs to. */
  async bySecret(secret: string): Promise<WorkerRow | undefined> {
    return this.db
      .selectFrom('workers')
      .selectAll()
      .where('secret_hash', '=', sha256(secret))
      .executeTakeFirst();
  }

  // ---- sessions and heartbeats

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
      version: w.version ?? null,
      call_secret: w.callSecret ?? null,
      status: 'idle' as const,
      reason: null,
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
          version: values.version,
          call_secret: values.call_secret,
          status: 'idle',
          reason: null,
          last_seen: values.last_seen,
        }),
      )
      .execute();
  }

  /**
   * A heartbeat of the current session; false when the worker is unknown or restarted since.
   * An offline worker that beats again is back online.
   */
  async heartbeat(id: string, session: string, hb?: Heartbeat): Promise<boolean> {
    const r = await this.db
      .updateTable('workers')
      .set({
        last_seen: sql<Date>`now()`,
        ...(hb
          ? {
              telemetry: json(hb.telemetry),
              status: hb.status,
              reason: hb.reason,
              state: stateOf(hb.status),
              ...(hb.capabilities ? { capabilities: json(hb.capabilities) } : {}),
            }
          : { state: sql<WorkerRow['state']>`CASE WHEN state = 'offline' THEN 'online' ELSE state END` }),
      })
      .where('id', '=', id)
      .where('session', '=', session)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** What a worker's probe found, for the session that holds it (the in-process worker of `up`). */
  async setCapabilities(
    id: string,
    session: string,
    capabilities: Record<string, unknown>,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('workers')
      .set({ capabilities: json(capabilities) })
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

  /** Workers silent for longer than `timeoutSeconds` become offline; returns those that just did. */
  async markOffline(timeoutSeconds: number): Promise<Array<{ id: string; name: string }>> {
    const r = await sql<{ id: string; name: string }>`
      UPDATE workers SET state = 'offline'
      WHERE state <> 'offline' AND last_seen < now() - make_interval(secs => ${timeoutSeconds})
      RETURNING id, name`.execute(this.db);
    return r.rows;
  }

  /** An admin's change: labels and max_concurrent are kept as overrides, draining as is. */
  async patch(
    id: string,
    p: { labels?: string[]; maxConcurrent?: number; draining?: boolean },
  ): Promise<WorkerRow | undefined> {
    const over: Record<string, unknown> = {};
    if (p.labels) over.labels = p.labels;
    if (p.maxConcurrent !== undefined) over.max_concurrent = p.maxConcurrent;
    const r = await sql<WorkerRow>`
      UPDATE workers SET overrides = overrides || ${json(over)}::jsonb,
             draining = coalesce(${p.draining ?? null}::boolean, draining)
      WHERE id = ${id}
      RETURNING *`.execute(this.db);
    return r.rows[0];
  }

  /** Forgets a worker; the tasks it held go back to the queue first (no failure counted). */
  async remove(id: string): Promise<string[] | null> {
    return this.db.transaction().execute(async (tx) => {
      const r = await sql<{ id: string }>`
        UPDATE tasks SET state = 'ready', worker = NULL, worker_session = NULL, progress = NULL, updated_at = now()
        WHERE worker = ${id} AND state IN ('dispatched', 'running')
        RETURNING id`.execute(tx);
      const gone = await tx.deleteFrom('workers').where('id', '=', id).returning('id').executeTakeFirst();
      return gone ? r.rows.map((t) => t.id) : null;
    });
  }

  /** Compare-and-set of the breaker state: a concurrent change wins and this one is dropped. */
  async setBreaker(id: string, before: unknown, after: unknown): Promise<boolean> {
    const r = await sql`
      UPDATE workers SET breaker = ${json(after)}::jsonb
      WHERE id = ${id} AND breaker = ${json(before ?? {})}::jsonb`.execute(this.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  /**
   * Workers that may take work: online, not draining, heard from within `timeoutSeconds` (by the
   * database's clock, the one that stamped the heartbeat: replicas' clocks may differ).
   */
  async available(timeoutSeconds: number): Promise<WorkerWithAge[]> {
    return this.db
      .selectFrom('workers')
      .selectAll()
      .select(sql<number>`extract(epoch from now() - last_seen)::float8`.as('silent_seconds'))
      .where('state', '=', 'online')
      .where('draining', '=', false)
      .where('last_seen', '>=', sql<Date>`now() - make_interval(secs => ${timeoutSeconds})`)
      .orderBy('id')
      .execute();
  }

  /** Every worker, with its silence; the scheduler explains a wait from these. */
  async list(): Promise<WorkerWithAge[]> {
    return this.db
      .selectFrom('workers')
      .selectAll()
      .select(sql<number>`extract(epoch from now() - last_seen)::float8`.as('silent_seconds'))
      .orderBy('name')
      .orderBy('id')
      .execute();
  }

  async get(id: string): Promise<WorkerWithAge | undefined> {
    return this.db
      .selectFrom('workers')
      .selectAll()
      .select(sql<number>`extract(epoch from now() - last_seen)::float8`.as('silent_seconds'))
      .where('id', '=', id)
      .executeTakeFirst();
  }
}

/** What the scheduler and the API take as the worker's limits: an admin's override wins. */
export function effectiveLimits(w: WorkerRow): { maxConcurrent: number; labels: string[] } {
  return {
    maxConcurrent: w.overrides.max_concurrent ?? w.max_concurrent,
    labels: w.overrides.labels ?? (w.labels as string[]),
  };
}
