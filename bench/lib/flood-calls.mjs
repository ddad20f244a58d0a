// The unsolicited flood: SIPp's shared scenario (INVITE → 486 with a Q.850 Reason → ACK) fed with an
// injection file of random caller IDs to the daemon's DIDs. Unsolicited = no pending session for that
// CLI: the flood's numbers (+44 79xx xxxxxx) never meet the legitimate stream's (+44 7700 9xxxxx).
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

/** Rows beyond this are not written: SIPp reads the file again from the top (SEQUENTIAL wraps). */
export const MAX_FLOOD_ROWS = 1_000_000;

/** A random caller ID in the UK mobile range +44 79xx xxxxxx, as spoofed floods use real-looking numbers. */
function randomCli(bytes, at) {
  // 8 random digits from 4 random bytes: 32 bits cover 0..4,294,967,295, so % 1e8 is near uniform.
  return `+4479${String(bytes.readUInt32LE(at) % 100_000_000).padStart(8, '0')}`;
}

/**
 * Writes `${workDir}/${name}.csv` (SEQUENTIAL, `CLI;DID`: a fresh random CLI per call, DIDs round-robin
 * over `dids`) and returns the SIPp scenario for runSipp: {scenario, extraArgs, label}.
 */
export async function writeFloodScenario({ root, workDir, calls, dids, name = 'flood' }) {
  const file = join(workDir, `${name}.csv`);
  const rows = Math.max(1, Math.min(calls, MAX_FLOOD_ROWS));
  const out = createWriteStream(file);
  out.write('SEQUENTIAL\n');
  const chunk = 10_000;
  for (let i = 0; i < rows; i += chunk) {
    const n = Math.min(chunk, rows - i);
    const bytes = randomBytes(4 * n);
    let text = '';
    for (let k = 0; k < n; k++) text += `${randomCli(bytes, 4 * k)};${dids[(i + k) % dids.length]}\n`;
    if (!out.write(text)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  return {
    scenario: join(root, 'sipp-scenarios/uac-reject.xml'),
    extraArgs: ['-inf', file],
    label: `sipp-scenarios/uac-reject.xml -inf <${rows.toLocaleString('en')} random unsolicited CLIs +44 79xx xxxxxx → ${dids.length} DID${dids.length > 1 ? 's' : ''}>`,
  };
}
