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
export { ensureRootMarker, ROOT_MARKER, readRootMarker } from './root-marker.js';
export {
  checkTransfer,
  signTransfer,
  TRANSFER_ROUTE,
  type TransferCheck,
  type TransferGrant,
  type TransferMethod,
} from './signed-url.js';
