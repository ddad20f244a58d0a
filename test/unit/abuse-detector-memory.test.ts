import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { EnumerationDetector } from '../../src/abuse/enumeration-detector.js';
import { HammerDetector } from '../../src/abuse/hammer-detector.js';
import { defaultAbuseConfig } from '../../src/abuse/abuse-defaults.js';
import { autoBlockerRig } from '../helpers/auto-blocker-rig.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

const MESSAGES = 1500;
const MESSAGE_BYTES = 40_000;

/** Heap in use after a full collection. */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The CLI as the edge gets it: a slice of the message text (V8 makes a 13+ character substring a
 * view into its parent), one big message per call.
 */
function cliOfMessage(i: number): string {
  const cli = `+4479${String((i * 7919) % 100_000_000).padStart(8, '0')}`;
  const message = `From: <sip:${cli}@127.0.0.1>;tag=${i}\r\n` + 'x'.repeat(MESSAGE_BYTES);
  return message.slice(11, 11 + cli.length);
}

describe('anomaly detectors under a random-CLI flood', () => {
  it('do not keep the messages the CLIs were read from (the role-all heap grew ~120 MB in 60 s at 8,000 calls/s)', () => {
    const abuse = defaultAbuseConfig();
    const r = autoBlockerRig();
    const candidates = { has: () => false, synced: true };
    const hammer = new HammerDetector({ config: abuse.hammering, candidates, blocker: r.blocker, registry: r.registry });
    const enumeration = new EnumerationDetector({ config: abuse.enumeration, candidates, blocker: r.blocker, registry: r.registry });
    const before = heapUsed();
    for (let i = 0; i < MESSAGES; i++) {
      const cli = cliOfMessage(i);
      // Twice each: the second call is the re-insertion path (take, then put back under that call's key).
      hammer.observe(cli, i);
      hammer.observe(cliOfMessage(i), i + 1);
      enumeration.observe(cli, i);
    }
    const grown = heapUsed() - before;
    expect(hammer.tracked).toBe(MESSAGES);
    expect(enumeration.tracked).toBeGreaterThan(0);
    expect(r.local).toEqual([]);
    // Holding the messages would be 1,500 × 40 KB = 60 MB; the counters themselves are well under 5 MB.
    expect(grown).toBeLessThan(15 * 1024 * 1024);
  });
});
