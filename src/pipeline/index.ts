export { removeScratch } from './chunked.js';
export {
  EncoderHealth,
  type EncoderOptions,
  type UnhealthyEncoder,
  type WorkerEncoders,
  workerEncoders,
} from './encoder-health.js';
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
