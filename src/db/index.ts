export { type EventRow, EventsRepository } from './events.repository.js';
export {
  type InsertResult,
  type JobHead,
  type JobRow,
  JobsRepository,
  type ListFilter,
  type NewJob,
  type StopTask,
} from './jobs.repository.js';
export { type ApiKeyView, hashKey, KeysRepository, newKey, type Principal } from './keys.repository.js';
export { loadMigrations, type Migration, migrate, migrationsCurrent, migrationsDir } from './migrate.js';
export type { JobState, Role, StoredError, Tables, TaskState, WorkerStatus } from './schema.js';
export { json } from './schema.js';
export { SecretsRepository } from './secrets.repository.js';
export { EVENTS_CHANNEL, openStore, type Store, type StoreOptions } from './store.js';
export { type TaskRow, TasksRepository } from './tasks.repository.js';
export {
  effectiveLimits,
  type Heartbeat,
  newSecret,
  type WorkerRegistration,
  type WorkerRow,
  WorkersRepository,
  type WorkerTokenView,
  type WorkerWithAge,
} from './workers.repository.js';
