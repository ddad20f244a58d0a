import type { Registry } from 'prom-client';
import type { AbuseConfig } from '../config/config-types.js';
import type { CandidateFilter } from '../queue/pending-numbers.js';
import type { AutoBlocker } from './auto-blocker.js';
import { EnumerationDetector } from './enumeration-detector.js';
import { HammerDetector } from './hammer-detector.js';

export interface AnomalyDetectorsOptions {
  /** abuse.hammering and abuse.enumeration are read. */
  settings: AbuseConfig;
  /** The edge's pending-number pre-filter: a CLI it holds has a session, and is never counted. */
  candidates: CandidateFilter;
  blocker: AutoBlocker;
  registry: Registry;
}

/**
 * The edge's anomaly detectors (abuse.hammering, abuse.enumeration) behind the one hook the edge
 * calls for every answered call that has a CLI and is not blocked. The pre-filter is asked once per
 * call for both (is it in sync, has this CLI a session), not once per detector. SIGHUP replaces the
 * detector whose settings changed (it starts counting afresh); with none on, a call costs one test.
 */
export class AnomalyDetectors {
  private hammering: HammerDetector | undefined;
  private enumeration: EnumerationDetector | undefined;
  private settings: AbuseConfig;

  constructor(private readonly opts: AnomalyDetectorsOptions) {
    this.settings = opts.settings;
    this.hammering = this.makeHammering(opts.settings);
    this.enumeration = this.makeEnumeration(opts.settings);
  }

  observe(cli: string, now: number): void {
    if (this.hammering === undefined && this.enumeration === undefined) return;
    const candidates = this.opts.candidates;
    if (!candidates.synced || candidates.has(cli)) return;
    if (this.hammering !== undefined) this.hammering.count(cli, now);
    if (this.enumeration !== undefined) this.enumeration.count(cli, now);
  }

  /** SIGHUP: a detector whose settings changed is replaced (or dropped, or started). */
  reconfigure(next: AbuseConfig): void {
    if (JSON.stringify(next.hammering) !== JSON.stringify(this.settings.hammering)) this.hammering = this.makeHammering(next);
    if (JSON.stringify(next.enumeration) !== JSON.stringify(this.settings.enumeration)) this.enumeration = this.makeEnumeration(next);
    this.settings = next;
  }

  private makeHammering(a: AbuseConfig): HammerDetector | undefined {
    const { candidates, blocker, registry } = this.opts;
    return a.hammering.enabled ? new HammerDetector({ config: a.hammering, candidates, blocker, registry }) : undefined;
  }

  private makeEnumeration(a: AbuseConfig): EnumerationDetector | undefined {
    const { candidates, blocker, registry } = this.opts;
    return a.enumeration.enabled ? new EnumerationDetector({ config: a.enumeration, candidates, blocker, registry }) : undefined;
  }
}
