export { loadMigrations, type Migration, migrate, migrationsCurrent, migrationsDir } from './migrate.js';
export type { JobState, Role, StoredError, Tables, TaskState } from './schema.js';
export { json } from './schema.js';
export { EVENTS_CHANNEL, openStore, type Store, type StoreOptions } from './store.js';
