import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { ConfigPath } from './config-checker.js';

export interface ConfigFile {
  data: unknown;
  /** 1-based line where the value at path is written, if it is in the file. */
  lineOf(path: ConfigPath): number | undefined;
}

function unreadable(file: string, why: string, cause?: unknown): RingproofError {
  return new RingproofError(ErrorCodes.CONFIG_UNREADABLE, `cannot read config file ${file}: ${why}`.replace(/[\r\n]+/g, ' '), { cause });
}

/** Reads and parses a YAML config file; any read or syntax problem is CONFIG_UNREADABLE naming file and line. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw unreadable(file, (err as Error).message, err);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true });
  const first = doc.errors[0];
  if (first) {
    // yaml's message already says "at line L, column C" and then draws a code frame; keep the first line.
    const msg = first.message.split('\n')[0]!.replace(/:\s*$/, '');
    throw unreadable(file, `YAML error: ${msg}`, first);
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    throw unreadable(file, (err as Error).message, err);
  }

  const lineOf = (path: ConfigPath): number | undefined => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return undefined;
        // The key's line is where an operator looks, also when the value is empty or on the next lines.
        offset = (pair.key as Node).range?.[0];
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) return undefined;
        offset = item.range?.[0];
        node = item;
      } else {
        return undefined;
      }
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  return { data, lineOf };
}
