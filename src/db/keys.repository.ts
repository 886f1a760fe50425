/** Users and their API keys. Keys are stored as SHA-256 hashes; the key itself is shown once. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AppError } from '../core/index.js';
import type { Role, Tables } from './schema.js';

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  user: string;
  role: Role;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface Principal {
  userId: string;
  user: string;
  role: Role;
  keyId: string;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** `mf_` + 43 characters of base64url: 256 random bits. */
export const newKey = (): string => `mf_${randomBytes(32).toString('base64url')}`;

export class KeysRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The user of this name, created with `role` when missing; a user with another role is a conflict. */
  async ensureUser(name: string, role: Role): Promise<{ id: string; role: Role }> {
    await this.db
      .insertInto('users')
      .values({ id: randomUUID(), name, role })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const u = await this.db
      .selectFrom('users')
      .select(['id', 'role'])
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    if (u.role !== role)
      throw new AppError('user_conflict', `user ${name} exists with role ${u.role}, not ${role}`);
    return u;
  }

  async create(userId: string, name: string, key = newKey()): Promise<{ id: string; key: string }> {
    const id = randomUUID();
    await this.db
      .insertInto('api_keys')
      .values({ id, user_id: userId, name, prefix: key.slice(0, 10), hash: hashKey(key) })
      .execute();
    return { id, key };
  }

  /** Makes `key` a valid key of the admin user (MEDIAFORGE_ADMIN_KEY); true when it was new. */
  async ensureAdminKey(key: string): Promise<boolean> {
    const admin = await this.ensureUser('admin', 'admin');
    const r = await this.db
      .insertInto('api_keys')
      .values({
        id: randomUUID(),
        user_id: admin.id,
        name: 'bootstrap',
        prefix: key.slice(0, 10),
        hash: hashKey(key),
      })
      .onConflict((oc) => oc.column('hash').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async hasAdmin(): Promise<boolean> {
    const r = await this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select('api_keys.id')
      .where('users.role', '=', 'admin')
      .where('api_keys.revoked_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const r = await this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select(['api_keys.id as keyId', 'users.id as userId', 'users.name as user', 'users.role as role'])
      .where('api_keys.hash', '=', hashKey(key))
      .where('api_keys.revoked_at', 'is', null)
      .executeTakeFirst();
    return r ?? null;
  }

  /** Marks a key used, at most once a minute (a write per request would be wasted). */
  async touch(keyId: string): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date() })
      .where('id', '=', keyId)
      .where((eb) =>
        eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(Date.now() - 60_000))]),
      )
      .execute();
  }

  private view() {
    return this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .select([
        'api_keys.id',
        'api_keys.name',
        'api_keys.prefix',
        'users.name as user',
        'users.role',
        'api_keys.created_at',
        'api_keys.last_used_at',
        'api_keys.revoked_at',
      ]);
  }

  async get(id: string): Promise<ApiKeyView | undefined> {
    return this.view().where('api_keys.id', '=', id).executeTakeFirst();
  }

  /** Every key (admin) or the keys of one user, newest first. */
  async list(userId?: string): Promise<ApiKeyView[]> {
    let q = this.view().orderBy('api_keys.created_at', 'desc');
    if (userId) q = q.where('api_keys.user_id', '=', userId);
    return q.execute();
  }

  /** Revokes a key that is not revoked yet; false when there was none to revoke. */
  async revoke(id: string, userId?: string): Promise<boolean> {
    let q = this.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null);
    if (userId) q = q.where('user_id', '=', userId);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }
}
