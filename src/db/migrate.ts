/**
 * Applies migrations/NNNN_name.sql in order, each in its own transaction, under an advisory lock
 * so replicas starting together apply each once. A file whose content changed after it was
 * applied stops the start: migrations are never edited once landed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { AppError } from '../core/index.js';
import type { Tables } from './schema.js';

const MIGRATION_LOCK = 7_031_965_452_118_020;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  sha256: string;
}

/** The package's migrations folder, found from this module whether it runs from src/, dist/ or the bundle. */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'migrations', '0001_init.sql'))) return join(dir, 'migrations');
    dir = dirname(dir);
  }
  throw new AppError('internal_error', 'the migrations folder is missing from the installation');
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      return {
        version: Number(f.slice(0, 4)),
        name: f.slice(5, -4),
        sql: text,
        sha256: createHash('sha256').update(text).digest('hex'),
      };
    });
}

export async function migrate(db: Kysely<Tables>, migrations = loadMigrations()): Promise<number[]> {
  return db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        sha256 text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`.execute(conn);
      const done = new Map(
        (await conn.selectFrom('schema_migrations').selectAll().execute()).map((r) => [r.version, r]),
      );
      const applied: number[] = [];
      for (const m of migrations) {
        const prior = done.get(m.version);
        if (prior) {
          if (prior.sha256 !== m.sha256)
            throw new AppError(
              'migration_mismatch',
              `migration ${m.version} (${m.name}) changed after it was applied to this database; write a new migration instead`,
            );
          continue;
        }
        await conn.transaction().execute(async (tx) => {
          await sql.raw(m.sql).execute(tx);
          await tx
            .insertInto('schema_migrations')
            .values({ version: m.version, name: m.name, sha256: m.sha256 })
            .execute();
        });
        applied.push(m.version);
      }
      const known = new Set(migrations.map((m) => m.version));
      const newer = [...done.keys()].filter((v) => !known.has(v));
      if (newer.length > 0)
        throw new AppError(
          'migration_mismatch',
          `the database has migrations this version does not know (${newer.join(', ')}): it was used by a newer mediaforge`,
        );
      return applied;
    } finally {
      await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
    }
  });
}

/** True when every known migration is applied (for /readyz). */
export async function migrationsCurrent(db: Kysely<Tables>, migrations = loadMigrations()): Promise<boolean> {
  const rows = await db.selectFrom('schema_migrations').select(['version', 'sha256']).execute();
  const have = new Map(rows.map((r) => [r.version, r.sha256]));
  return migrations.every((m) => have.get(m.version) === m.sha256);
}
