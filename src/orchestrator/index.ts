export { buildApp } from './app.js';
export { ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export type { OrchestratorDeps } from './deps.js';
export { Planner, taskId } from './planner.js';
export { jobProgress } from './progress.js';
export { type OrchestratorOptions, type RunningOrchestrator, startOrchestrator } from './server.js';
