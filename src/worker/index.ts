export { defaultConcurrency, WorkerAgent, type WorkerAgentOptions } from './agent.js';
export { type Probed, probeCapabilities, withoutUnhealthy } from './capabilities.js';
export { Journal, type JournalOptions, type JournalRecovery } from './journal.js';
export { LocalWorker } from './local-worker.js';
export { Outbox, type OutboxOptions, type OutboxTimer } from './outbox.js';
export {
  checkStorage,
  type StorageCheckOptions,
  type StorageCheckResult,
  StorageWatch,
  type StorageWatchOptions,
  startStorageCheck,
} from './storage-check.js';
export { md5File, type RunnerContext, runAssignment } from './task-runner.js';
