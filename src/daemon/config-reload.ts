import type { RingproofConfig } from '../config/config-types.js';

/**
 * The configuration keys a running daemon puts in force on SIGHUP. Everything else (listeners,
 * Redis, sizes fixed at start-up such as sip.maxTransactions, workers, webhooks, API keys) is
 * built once at start-up: a change there is reported as needing a restart and left as it was.
 */
export const RELOADABLE_KEYS: readonly string[] = Object.freeze([
  'trunks',
  'sip.scannerUserAgents',
  'sip.unknownSource',
  'dids',
  'limits.create',
  'limits.calls',
  'didPool.quarantineDays',
  'didPool.restoreQuietMinutes',
  'didPool.restoreMaxUnwantedCalls',
  'didPool.flag',
  'abuse.floodGuard',
  'abuse.blocklist',
  'abuse.hammering',
  'abuse.enumeration',
  'log.level',
]);

/** Leaf-ish keys whose values differ between two configurations ("sip.t1Ms", "trunks", …). */
export function changedKeys(before: RingproofConfig, after: RingproofConfig): string[] {
  const changed: string[] = [];
  const visit = (a: unknown, b: unknown, path: string, depth: number): void => {
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    // Two levels ("sip.drachtio"), enough to name what changed without listing array items.
    if (depth < 2 && isRecord(a) && isRecord(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) visit(a[k], b[k], path ? `${path}.${k}` : k, depth + 1);
      return;
    }
    changed.push(path);
  };
  visit(before, after, '', 0);
  // Where the settings came from is not a setting.
  return changed.filter((k) => k !== 'sourceFile');
}

/** True for a key reload puts in force (one of RELOADABLE_KEYS). */
export function isReloadable(key: string): boolean {
  return RELOADABLE_KEYS.includes(key);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
