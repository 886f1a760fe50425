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
