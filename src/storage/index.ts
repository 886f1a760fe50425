export {
  confirmSource,
  fileIdentity,
  isInside,
  type MediaRoots,
  mediaRoots,
  prepareDestination,
  resolveLocation,
} from './local-paths.js';
