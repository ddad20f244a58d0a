import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * The absolute path of an executable: a name is looked up on the given PATH string, a path (anything
 * with a "/") is checked as is. Undefined when there is no such executable file. Done before spawn
 * so "not installed" gets its own clear error instead of an asynchronous ENOENT.
 */
export function findExecutable(nameOrPath: string, pathEnv: string): string | undefined {
  if (nameOrPath.includes('/')) {
    const p = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, nameOrPath);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
