export { LocalWorker } from './local-worker.js';
export { md5File, type RunnerContext, runAssignment } from './task-runner.js';
