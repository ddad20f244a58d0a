import type { ConfigChecker } from './config-checker.js';
import { readBoolean } from './read-boolean.js';
import type { AuditConfig, PipelineConfig } from './config-types.js';

/** `pipeline`: how the calls pipeline dedupes, lanes and sheds. */
export function readPipeline(c: ConfigChecker, value: unknown, d: PipelineConfig): PipelineConfig {
  const path = ['pipeline'];
  const o = c.mapping(value, path, ['dedupeWindowSeconds', 'prefilterReloadSeconds', 'prefilterWatermarkMs', 'shedAfterSeconds', 'workerThread']);
  return {
    dedupeWindowSeconds: c.pick(o, path, 'dedupeWindowSeconds', d.dedupeWindowSeconds, (v, p) => c.int(v, p, 35, 3600)),
    prefilterReloadSeconds: c.pick(o, path, 'prefilterReloadSeconds', d.prefilterReloadSeconds, (v, p) => c.int(v, p, 1, 3600)),
    prefilterWatermarkMs: c.pick(o, path, 'prefilterWatermarkMs', d.prefilterWatermarkMs, (v, p) => c.int(v, p, 0, 1000)),
    shedAfterSeconds: c.pick(o, path, 'shedAfterSeconds', d.shedAfterSeconds, (v, p) => c.int(v, p, 1, 3600)),
    workerThread: c.pick(o, path, 'workerThread', d.workerThread, (v, p) => readBoolean(c, v, p)),
  };
}

/** `audit`: retention of the evidence trail, the noise trail and the aggregates of unsolicited calls. */
export function readAudit(c: ConfigChecker, value: unknown, d: AuditConfig): AuditConfig {
  const path = ['audit'];
  const o = c.mapping(value, path, ['evidenceRetentionDays', 'noiseMaxEntries', 'noiseSampleEvery', 'noiseMaxPerSecond', 'aggregateRetentionHours', 'topTalkers']);
  return {
    evidenceRetentionDays: c.pick(o, path, 'evidenceRetentionDays', d.evidenceRetentionDays, (v, p) => c.int(v, p, 1, 3650)),
    noiseMaxEntries: c.pick(o, path, 'noiseMaxEntries', d.noiseMaxEntries, (v, p) => c.int(v, p, 100, 10_000_000)),
    noiseSampleEvery: c.pick(o, path, 'noiseSampleEvery', d.noiseSampleEvery, (v, p) => c.int(v, p, 1, 1_000_000)),
    noiseMaxPerSecond: c.pick(o, path, 'noiseMaxPerSecond', d.noiseMaxPerSecond, (v, p) => c.int(v, p, 1, 1_000_000)),
    aggregateRetentionHours: c.pick(o, path, 'aggregateRetentionHours', d.aggregateRetentionHours, (v, p) => c.int(v, p, 1, 24 * 400)),
    topTalkers: c.pick(o, path, 'topTalkers', d.topTalkers, (v, p) => c.int(v, p, 10, 100_000)),
  };
}
