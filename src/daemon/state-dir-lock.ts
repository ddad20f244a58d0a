import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One daemon per state directory: two would fight over the embedded redis-server and the spool.
 * A lock file holds the owner's pid; a stale one (owner dead) is taken over.
 */
export function lockStateDir(stateDir: string): () => void {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'ringproof.pid');
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
      throw new RingproofError(
        ErrorCodes.STATE_DIR_LOCKED,
        `stateDir: ${stateDir} is in use by ringproof pid ${pid}; give each process its own --state-dir (or share an external REDIS_URL)`,
      );
    }
  } catch (err) {
    if (err instanceof RingproofError) throw err;
  }
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) rmSync(file);
    } catch {
      /* already gone */
    }
  };
}
