import { Registry } from 'prom-client';
import type { AbuseEvent, AbuseEventSink } from '../../src/abuse/abuse-event.js';
import { AutoBlocker } from '../../src/abuse/auto-blocker.js';
import type { BlocklistEntry, BlocklistInput } from '../../src/abuse/blocklist-entry.js';
import { logCapture } from './log-capture.js';

/** An AutoBlocker whose store, local copy, event sink and log are in memory, for the anomaly detectors' tests. */
export function autoBlockerRig() {
  const added: BlocklistInput[] = [];
  const local: BlocklistEntry[] = [];
  const events: AbuseEvent[] = [];
  const sink: AbuseEventSink = { emit: (e) => { events.push(e); }, close: async () => undefined };
  const registry = new Registry();
  const { lines, logger } = logCapture('info');
  const blocker = new AutoBlocker({
    addMany: async (inputs) => { added.push(...inputs); return inputs.map((input) => ({ ...input, createdAt: 0, createdBy: 'auto' })); },
    putLocal: (e) => { local.push(e); },
    events: sink, logger, registry, batchMs: 0,
  });
  return { blocker, added, local, events, lines, registry };
}
