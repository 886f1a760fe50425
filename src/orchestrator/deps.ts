import type { Logger } from 'pino';
import type { OrchestratorConfig } from '../config/index.js';
import type { Store } from '../db/index.js';
import type { MediaRoots } from '../storage/index.js';
import type { ControlPlane } from './control-plane.js';
import type { Metrics } from './metrics.js';

/** What the HTTP layer is given: built once at the edge, passed down. */
export interface OrchestratorDeps {
  config: Readonly<OrchestratorConfig>;
  store: Store;
  control: ControlPlane;
  roots: MediaRoots;
  metrics: Metrics;
  logger: Logger;
  /** Encoder names of the FFmpeg this process knows (for showing a plan's argv). */
  encoders: () => Promise<ReadonlySet<string>>;
  isClosing: () => boolean;
}
