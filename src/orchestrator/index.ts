export { buildApp } from './app.js';
export { ControlPlane, type ControlPlaneOptions, taskId } from './control-plane.js';
export type { OrchestratorDeps } from './deps.js';
export { jobProgress } from './progress.js';
export { type OrchestratorOptions, type RunningOrchestrator, startOrchestrator } from './server.js';
