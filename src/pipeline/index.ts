export {
  type ExecuteContext,
  executeJob,
  executeTask,
  type JobProgress,
  type JobResult,
  type TaskResult,
  type WrittenOutput,
} from './execute.js';
export { localTools } from './local-tools.js';
export { type PrepareContext, type PreparedJob, prepareJob, unwrapSpec } from './prepare.js';
export type { MediaTools, RunResult } from './tools.js';
