import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every module a source file reaches through static and dynamic imports, plus the packages it names. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // Type-only imports are erased by the compiler, so they load nothing.
    const specs = [
      ...[...text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm)].filter((m) => !m[1]).map((m) => m[2]!),
      ...[...text.matchAll(/import\s*\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!),
      ...[...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
    ];
    for (const spec of specs) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('number intelligence stays off the SIP path', () => {
  it('the edge role reaches no module of src/numbers and never the full libphonenumber metadata', () => {
    const { files, packages } = importGraph(resolve(SRC, 'daemon/edge-role.ts'));
    expect(files.size).toBeGreaterThan(10);
    expect([...files].filter((f) => f.includes('/src/numbers/'))).toEqual([]);
    // The edge uses the light metadata (libphonenumber-js or libphonenumber-js/min), never /max.
    expect([...packages].filter((p) => p === 'libphonenumber-js/max')).toEqual([]);
  });

  it('the API role does reach it (so the check above could fail)', () => {
    const { files, packages } = importGraph(resolve(SRC, 'daemon/api-role.ts'));
    expect([...files].some((f) => f.endsWith('/src/numbers/number-classifier.ts'))).toBe(true);
    expect(packages).toContain('libphonenumber-js/max');
  });
});
