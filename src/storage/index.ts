export {
  confirmSource,
  fileIdentity,
  isInside,
  type MediaRoots,
  mediaRoots,
  prepareDestination,
  relativeToRoots,
  resolveLocation,
} from './local-paths.js';
export { type PathMapping, parsePathMappings, toLocalPath, toOrchestratorPath } from './path-mapping.js';
