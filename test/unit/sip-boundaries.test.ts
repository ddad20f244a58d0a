import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SRC_DIR as SRC, tsFiles } from '../helpers/source-files.js';

/**
 * The SIP room's import boundaries. Each sub-room exports
 * what others may use from its index.ts; everything else is internal. Rooms are layered: a room
 * imports only rooms before it in LAYERS, always through their index. Code outside src/sip sees only
 * the rooms in PUBLIC_ROOMS. Tests may reach inside a room (they test its parts), so only src/ is read.
 */
const LAYERS = ['contract', 'wire', 'transports', 'transactions', 'uas', 'uac', 'engines'] as const;
const PUBLIC_ROOMS = new Set(['contract', 'wire', 'uac', 'engines']);
/** What src/sip may use from the rest of ringproof: shared plumbing, never the edge, queue or API. */
const SIP_MAY_USE = new Set(['config', 'errors', 'metrics', 'v8', 'log', 'net']);

const SIP = join(SRC, 'sip');

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?'([^']+)'/g;

interface Edge {
  from: string;
  to: string;
}

/** Every relative import in src/, resolved to the .ts file it names. */
function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] as string;
      if (!spec.startsWith('.')) continue;
      edges.push({ from: file, to: resolve(dirname(file), spec).replace(/\.js$/, '.ts') });
    }
  }
  return edges;
}

/** The sub-room of a file under src/sip, or undefined outside it. */
function roomOf(file: string): string | undefined {
  const rel = relative(SIP, file);
  if (rel.startsWith('..')) return undefined;
  return rel.split(sep)[0];
}

const show = (e: Edge): string => `${relative(SRC, e.from)} -> ${relative(SRC, e.to)}`;
const isIndex = (file: string, room: string): boolean => file === join(SIP, room, 'index.ts');

describe('SIP room boundaries', () => {
  const edges = importEdges();

  it('reads the imports (the rules below are not vacuous)', () => {
    expect(edges.filter((e) => roomOf(e.to) !== undefined && roomOf(e.from) !== roomOf(e.to)).length).toBeGreaterThan(15);
  });

  it('has only the known sub-rooms, each with an index.ts, and no loose files in src/sip', () => {
    const entries = readdirSync(SIP);
    expect(entries.filter((n) => !statSync(join(SIP, n)).isDirectory())).toEqual([]);
    expect([...entries].sort()).toEqual([...LAYERS].sort());
    for (const room of LAYERS) expect(statSync(join(SIP, room, 'index.ts')).isFile()).toBe(true);
  });

  it('is entered from outside only through the index of a public sub-room', () => {
    const bad = edges.filter((e) => {
      const room = roomOf(e.to);
      return roomOf(e.from) === undefined && room !== undefined && !(PUBLIC_ROOMS.has(room) && isIndex(e.to, room));
    });
    expect(bad.map(show)).toEqual([]);
  });

  it('lets a sub-room import only the sub-rooms below it, through their index', () => {
    const bad = edges.filter((e) => {
      const from = roomOf(e.from);
      const to = roomOf(e.to);
      if (from === undefined || to === undefined || from === to) return false;
      const below = LAYERS.indexOf(to as (typeof LAYERS)[number]) < LAYERS.indexOf(from as (typeof LAYERS)[number]);
      return !below || !isIndex(e.to, to);
    });
    expect(bad.map(show)).toEqual([]);
  });

  it('has each index re-export only its own sub-room', () => {
    const bad = edges.filter((e) => {
      const room = roomOf(e.from);
      return room !== undefined && isIndex(e.from, room) && roomOf(e.to) !== room;
    });
    expect(bad.map(show)).toEqual([]);
  });

  it('uses only shared plumbing from the rest of ringproof', () => {
    const bad = edges.filter((e) => {
      if (roomOf(e.from) === undefined || roomOf(e.to) !== undefined) return false;
      return !SIP_MAY_USE.has(relative(SRC, e.to).split(sep)[0] as string);
    });
    expect(bad.map(show)).toEqual([]);
  });
});
