/**
 * The database, whichever it is: PGlite in a folder (the embedded default) or a PostgreSQL server
 * (`postgres://…`). Both speak the same SQL; what differs is here: how connections are made, how
 * notifications arrive, and how one process becomes the scheduler's leader.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { AppError } from '../core/index.js';
import { migrate } from './migrate.js';
import { pgliteDialect } from './pglite-dialect.js';
import type { Tables } from './schema.js';

export const EVENTS_CHANNEL = 'mediaforge_events';
/**
 * The advisory lock the scheduler's leader holds. Advisory locks are per database, not per
 * schema: deployments (or test runs) sharing a database in separate schemas each get their own.
 */
function leaderLock(schema: string | undefined): string {
  const h = createHash('sha256')
    .update(`mediaforge-leader:${schema ?? ''}`)
    .digest();
  return h.readBigInt64BE(0).toString();
}

export interface StoreOptions {
  /** `postgres://…` for a server; otherwise PGlite in `dataDir` (or in memory without one). */
  url?: string | undefined;
  dataDir?: string | undefined;
  /** Connections to a server (default 10). */
  poolSize?: number;
  /** Apply pending migrations at open (default true). */
  migrate?: boolean;
  /** PostgreSQL schema to use (tests give each run its own); created when missing. */
  schema?: string;
}

export interface Store {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Kysely<Tables>;
  /** Calls `fn` with the payload of every notification on the events channel; returns an unsubscribe. */
  onEvent(fn: (payload: string) => void): () => void;
  /** Becomes (or stays) the leader when it can; false when another process leads. */
  tryLead(): Promise<boolean>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openStore(opts: StoreOptions): Promise<Store> {
  const store = opts.url ? await openPostgres(opts.url, opts) : await openPglite(opts.dataDir);
  if (opts.migrate !== false) {
    try {
      await migrate(store.db);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  return store;
}

type Listener = (payload: string) => void;

function fanOut(): { add(fn: Listener): () => void; emit(p: string): void } {
  const listeners = new Set<Listener>();
  return {
    add(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    emit(p) {
      for (const fn of listeners) fn(p);
    },
  };
}

async function openPglite(dataDir: string | undefined): Promise<Store> {
  let pglite: PGlite;
  try {
    if (dataDir) await mkdir(dataDir, { recursive: true });
    pglite = await PGlite.create(dataDir ? { dataDir } : {});
  } catch (e) {
    throw new AppError(
      'database_unavailable',
      `cannot open the embedded database in ${dataDir}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const listeners = fanOut();
  // Before any query runs: the driver's lock does not cover LISTEN.
  await pglite.listen(EVENTS_CHANNEL, listeners.emit);
  const db = new Kysely<Tables>({ dialect: pgliteDialect(pglite) });
  let closed = false;
  return {
    kind: 'pglite',
    db,
    onEvent: listeners.add,
    // One process owns a PGlite folder, so it is always the leader.
    tryLead: async () => !closed,
    ping: async () => {
      await sql`SELECT 1`.execute(db);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await db.destroy();
      await pglite.close();
    },
  };
}

async function openPostgres(url: string, opts: StoreOptions): Promise<Store> {
  const schema = opts.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new AppError(
      'config_invalid',
      `database schema name ${JSON.stringify(schema)} is not a plain identifier`,
    );
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    // int8 (ids, counts) as numbers: ours stay far below 2^53.
    types: { getTypeParser: (oid, format) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format)) },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  if (schema) {
    const c = new pg.Client(clientConfig);
    try {
      await c.connect();
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } catch (e) {
      throw new AppError('database_unavailable', `cannot reach the database: ${(e as Error).message}`, {
        cause: e,
      });
    } finally {
      await c.end().catch(() => {});
    }
  }
  const pool = new pg.Pool({ ...clientConfig, max: opts.poolSize ?? 10 });
  // An idle client that loses its server must not crash the process: the next query reconnects.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new AppError('database_unavailable', `cannot reach the database: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const listeners = fanOut();
  const own = (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]?.s;
  const ours = (payload: string) => {
    try {
      return (JSON.parse(payload) as { schema?: string }).schema === own;
    } catch {
      return false;
    }
  };
  let closed = false;

  // LISTEN needs a connection of its own, kept open: when the server drops it, it is made again,
  // every second until the server answers.
  let listener: pg.Client | null = null;
  let connectedOnce = false;
  const listen = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client(clientConfig);
    let lost = false;
    const again = () => {
      if (lost) return;
      lost = true;
      if (listener === c) listener = null;
      c.end().catch(() => {});
      if (!closed) setTimeout(() => void listen().catch(() => {}), 1000).unref();
    };
    c.on('notification', (m) => {
      if (m.channel === EVENTS_CHANNEL && m.payload && ours(m.payload)) listeners.emit(m.payload);
    });
    c.on('error', again);
    c.on('end', again);
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      // Whatever was notified while nobody listened is in the tables: tell every reader to look.
      if (connectedOnce) listeners.emit(JSON.stringify({ schema: own, type: 'store.reconnected' }));
      connectedOnce = true;
      listener = c;
    } catch (e) {
      again();
      throw e;
    }
  };
  await listen();

  // The leader holds a session-level advisory lock on a connection of its own: when the process
  // dies, the server ends the session and the lock is free for another replica.
  let leader: pg.Client | null = null;
  let leaderCheckedAt = 0;
  const tryLead = async (): Promise<boolean> => {
    if (closed) return false;
    if (leader) {
      // A lost connection also ends the client ('error' clears `leader`); a check every few
      // seconds catches a silent one without a query on every wake-up of the scheduler.
      if (Date.now() - leaderCheckedAt < 2000) return true;
      try {
        await leader.query('SELECT 1');
        leaderCheckedAt = Date.now();
        return true;
      } catch {
        leader.end().catch(() => {});
        leader = null;
      }
    }
    const c = new pg.Client(clientConfig);
    c.on('error', () => {
      if (leader === c) leader = null;
    });
    try {
      await c.connect();
      const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [leaderLock(schema)]);
      if (r.rows[0]?.ok) {
        leader = c;
        leaderCheckedAt = Date.now();
        return true;
      }
    } catch {
      // the server is away: not the leader
    }
    await c.end().catch(() => {});
    return false;
  };

  return {
    kind: 'postgres',
    db,
    onEvent: listeners.add,
    tryLead,
    ping: async () => {
      await sql`SELECT 1`.execute(db);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([listener?.end().catch(() => {}), leader?.end().catch(() => {})]);
      await db.destroy();
    },
  };
}
