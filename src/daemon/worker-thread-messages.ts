import type { RingproofConfig } from '../config/config-types.js';
import type { RemoteMetrics } from '../metrics/metrics.js';

/** What the main thread hands the workers' thread at start (pipeline.workerThread). */
export interface WorkerThreadData {
  config: RingproofConfig;
  /** The Redis the main thread resolved (the embedded one's URL in role all). */
  redisUrl: string;
  /** Signing secrets in force (configured, or the demo one). */
  webhookSecrets: readonly string[];
}

/** Main thread → workers' thread. */
export type ToWorkerThread =
  | { kind: 'metrics'; id: number }
  | { kind: 'reload'; config: RingproofConfig }
  | { kind: 'stop' };

/** Workers' thread → main thread. */
export type FromWorkerThread =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  /** `metrics` absent: the registry could not be read this time (the main thread serves the last answer). */
  | { kind: 'metrics'; id: number; metrics?: RemoteMetrics }
  | { kind: 'stopped' };
