// Where the built daemon's entry point is: dist/command-line/main.js, or dist/cli/main.js in trees
// from before that directory was renamed, so the bench measures older commits too.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const DAEMON_ENTRIES = ['dist/command-line/main.js', 'dist/cli/main.js'];

/** The absolute path of the built entry point under `root`, or undefined when neither is built. */
export function daemonEntry(root) {
  return DAEMON_ENTRIES.map((p) => join(root, p)).find((p) => existsSync(p));
}
