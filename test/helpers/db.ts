/**
 * The databases a suite runs against: PGlite always, and the PostgreSQL server when
 * MEDIAFORGE_TEST_DATABASE_URL names one (.ci/run sets it). Each store gets a fresh schema on the
 * server, dropped when it closes, so runs and files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/db/index.js';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** Options for openStore (and for a child process: url + schema). */
  url?: string;
}

const SERVER = process.env.MEDIAFORGE_TEST_DATABASE_URL;

export const TEST_DATABASES: TestDatabase[] = [
  { name: 'pglite' },
  ...(SERVER ? [{ name: 'postgres' as const, url: SERVER }] : []),
];

export const freshSchema = (): string => `mf_test_${randomBytes(6).toString('hex')}`;

export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

/** A migrated store on an empty database; close() also drops its schema. */
export async function freshStore(
  t: TestDatabase,
  opts: { dataDir?: string; schema?: string } = {},
): Promise<Store & { schema?: string }> {
  if (!t.url) return openStore({ dataDir: opts.dataDir });
  const schema = opts.schema ?? freshSchema();
  const store = await openStore({ url: t.url, schema });
  const url = t.url;
  return {
    ...store,
    schema,
    close: async () => {
      await store.close();
      await dropSchema(url, schema);
    },
  };
}
