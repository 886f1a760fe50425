/**
 * Secrets every replica of the orchestrator must share (a URL signed by one is checked by
 * another): made once, by the first replica that asks, in one statement that cannot race.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tables } from './schema.js';

export class SecretsRepository {
  constructor(private readonly db: Kysely<Tables>) {}

  /** The secret `name`: 32 random bytes (hex), drawn by whoever asks first, the same for all after. */
  async get(name: string): Promise<string> {
    await this.db
      .insertInto('server_secrets')
      .values({ name, value: randomBytes(32).toString('hex') })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('server_secrets')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return row.value;
  }
}
