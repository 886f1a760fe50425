export { type LoadOptions, loadConfig } from './load.js';
export {
  CommonSettings,
  OrchestratorConfig,
  RESERVED_ENV,
  ROLES,
  type Role,
  RunConfig,
  WorkerConfig,
} from './schema.js';
export { settingsTable } from './table.js';
