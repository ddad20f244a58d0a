import type { Registry } from 'prom-client';
import type { BlocklistStore } from '../abuse/blocklist-store.js';
import type { RingproofConfig } from '../config/config-types.js';
import type { Logger } from '../log/logger.js';
import type { VerificationStore } from '../verify/verification-types.js';
import type { CreationChecks } from './creation-checks.js';
import type { DidPool } from '../dids/did-pool.js';
import type { FlashReports } from '../verify/flash-report.js';

/** What the HTTP API needs from the daemon; the integrator builds these once and passes them in. */
export interface ApiDeps {
  store: VerificationStore;
  config: RingproofConfig;
  logger: Logger;
  /** The process's private metrics registry (Metrics.registry). */
  registry: Registry;
  /** What a creation must pass before anything is stored (the number policy). */
  creationChecks: CreationChecks;
  /** The shared blocklist behind /v1/blocklist (admin keys only); none = no such routes. */
  blocklist?: BlocklistStore;
  /** The Redis DID pool behind /v1/dids (admin only); none = no such routes. */
  didPool?: DidPool;
  /** Reports of flash calls; with outbound.trunks configured, method flash_call is served. */
  flashReports?: FlashReports;
}
