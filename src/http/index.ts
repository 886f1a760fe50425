/** What every HTTP server of mediaforge shares: the orchestrator's API and the worker's. */
export { installErrorHandling } from './errors.js';
