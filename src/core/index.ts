/** The pure core: the language of the system. No I/O anywhere below this folder. */
export * from './errors.js';
export { errorsDocument } from './errors-table.js';
export * from './ffmpeg/args.js';
export * from './ffmpeg/encoders.js';
export * from './ffmpeg/filtergraph.js';
export * from './ffmpeg/listed-encoders.js';
export * from './ffmpeg/render.js';
export * from './ffmpeg/test-pattern.js';
export * from './operators/catalog.js';
export type { AnyOperator, Cost, FilterIO, FilterResult, Operator } from './operators/operator.js';
export { getOperator, OPERATORS, operatorNames } from './operators/registry.js';
export { operatorTable } from './operators/table.js';
export * from './planner/chunks.js';
export {
  type ChunkPlanning,
  type ChunkRequest,
  chunkBlocker,
  chunkSource,
  concatList,
  planChunks,
  scratchFolder,
} from './planner/compile-chunks.js';
export * from './planner/files.js';
export * from './planner/graph.js';
export * from './planner/plan.js';
export * from './planner/requirements.js';
export * from './planner/validate.js';
export * from './scheduler/index.js';
export * from './spec/admission.js';
export * from './spec/codecs.js';
export * from './spec/issues.js';
export * from './spec/job-spec.schema.js';
export * from './spec/media-info.js';
export * from './spec/task-spec.schema.js';
export * from './spec/task-wire.schema.js';
export * from './spec/types.js';
export * from './spec/verify.js';
export * from './spec/worker-wire.schema.js';
