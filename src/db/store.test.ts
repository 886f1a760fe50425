import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { freshStore, TEST_DATABASES } from '../../test/helpers/db.js';
import { loadMigrations, migrate, migrationsCurrent } from './migrate.js';
import { SecretsRepository } from './secrets.repository.js';
import { openStore, type Store } from './store.js';

describe.each(TEST_DATABASES)('store on $name', (t) => {
  let store: Store;
  afterEach(async () => store?.close());

  it('makes a shared secret once: every caller, even at the same moment, gets the same one', async () => {
    store = await freshStore(t);
    const [a, b] = [new SecretsRepository(store.db), new SecretsRepository(store.db)];
    const got = await Promise.all([a.get('k'), b.get('k'), a.get('k'), b.get('other')]);
    expect(got[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(got[1]).toBe(got[0]);
    expect(got[2]).toBe(got[0]);
    expect(got[3]).not.toBe(got[0]);
    expect(await new SecretsRepository(store.db).get('k')).toBe(got[0]);
  });

  it('applies every migration once and knows it is current', async () => {
    store = await freshStore(t);
    expect(await migrationsCurrent(store.db)).toBe(true);
    expect(await migrate(store.db)).toEqual([]);
    const tables = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`.execute(
      store.db,
    );
    expect(tables.rows.map((r) => r.table_name).sort()).toEqual(
      [
        'api_keys',
        'events',
        'jobs',
        'schema_migrations',
        'server_secrets',
        'tasks',
        'users',
        'worker_tokens',
        'workers',
      ].sort(),
    );
  });

  it('refuses to start when an applied migration file changed', async () => {
    store = await freshStore(t);
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, sha256: 'x'.repeat(64) } : m));
    await expect(migrate(store.db, edited)).rejects.toMatchObject({ code: 'migration_mismatch' });
    expect(await migrationsCurrent(store.db, edited)).toBe(false);
  });

  it('reads int8 ids as numbers and delivers a notification for every event', async () => {
    store = await freshStore(t);
    const got: string[] = [];
    store.onEvent((p) => got.push(p));
    const row = await store.db
      .insertInto('events')
      .values({ type: 'probe', data: JSON.stringify({ a: 1 }) })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(typeof row.id).toBe('number');
    expect(row.data).toEqual({ a: 1 });
    await expect.poll(() => got.length).toBe(1);
    expect(JSON.parse(got[0]!)).toMatchObject({ id: row.id, job: null, type: 'probe' });
  });

  it('keeps a transaction to itself while other queries wait', async () => {
    store = await freshStore(t);
    const db = store.db;
    await db.insertInto('users').values({ id: 'u', name: 'u', role: 'user' }).execute();
    let seenInside = -1;
    const tx = db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ name: 'changed' }).where('id', '=', 'u').execute();
      await new Promise((r) => setTimeout(r, 50));
      await trx.updateTable('users').set({ name: 'u' }).where('id', '=', 'u').execute();
      throw new Error('roll back');
    });
    const outside = db
      .selectFrom('users')
      .select('name')
      .where('id', '=', 'u')
      .executeTakeFirstOrThrow()
      .then((r) => {
        seenInside = r.name === 'changed' ? 1 : 0;
      });
    await expect(tx).rejects.toThrow('roll back');
    await outside;
    expect(seenInside).toBe(0);
  });
});

describe('store on PGlite in a folder', () => {
  it('keeps its rows across a close and a reopen', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'mf-db-')), 'db');
    const a = await openStore({ dataDir: dir });
    await a.db.insertInto('users').values({ id: 'keep', name: 'keep', role: 'admin' }).execute();
    await a.close();
    const b = await openStore({ dataDir: dir });
    const rows = await b.db.selectFrom('users').select('id').execute();
    await b.close();
    expect(rows).toEqual([{ id: 'keep' }]);
  });

  it('says clearly when the folder cannot hold a database', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'mf-db-')), 'not-a-dir');
    await writeFile(file, 'x');
    await expect(openStore({ dataDir: file })).rejects.toMatchObject({ code: 'database_unavailable' });
  });
});
