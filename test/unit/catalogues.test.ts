import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors/codes.js';
import { DropReasons } from '../../src/sip/contract/drop-reasons.js';
import { REPO_ROOT as ROOT, SRC_DIR as SRC, tsFiles } from '../helpers/source-files.js';

/**
 * The error-code and drop-reason catalogues against the code and the README (as fastify's
 * test/internals/errors.test.js does for its errors): every entry is used, every use goes through
 * the catalogue, and the README documents exactly the catalogue.
 */
/** The source of src/, one entry per file, without the catalogue file itself. */
function sources(except: string): Array<{ file: string; text: string }> {
  return tsFiles(SRC)
    .filter((f) => f !== join(SRC, except))
    .map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
}

/** The first-column `values` of the markdown table under a README heading. */
function readmeTable(heading: string): string[] {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '') === heading);
  expect(start, `README heading "${heading}"`).toBeGreaterThan(-1);
  const rows: string[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const cell = /^\|\s*`([^`]+)`\s*\|/.exec(line);
      if (cell) rows.push(cell[1] as string);
    } else if (inTable || /^#+ /.test(line)) {
      break;
    }
  }
  return rows;
}

describe('error catalogue (src/errors/codes.ts)', () => {
  const src = sources('errors/codes.ts');

  it('has unique codes, each RP_ and its key', () => {
    const values = Object.values(ErrorCodes);
    expect(new Set(values).size).toBe(values.length);
    for (const [key, code] of Object.entries(ErrorCodes)) expect(code).toBe(`RP_${key}`);
  });

  it('has every code used somewhere in src/ through ErrorCodes', () => {
    const unused = Object.keys(ErrorCodes).filter((key) => !src.some((s) => new RegExp(`\\bErrorCodes\\.${key}\\b`).test(s.text)));
    expect(unused).toEqual([]);
  });

  it('is the only place an RP_ code is spelled out', () => {
    const literal = src.filter((s) => /['"`]RP_[A-Z_]+['"`]/.test(s.text)).map((s) => s.file);
    expect(literal).toEqual([]);
  });

  it('is documented in the README, code for code', () => {
    expect(readmeTable('Error codes').sort()).toEqual(Object.values(ErrorCodes).sort());
  });
});

describe('drop-reason catalogue (src/sip/contract/drop-reasons.ts)', () => {
  const src = sources('sip/contract/drop-reasons.ts');

  it('has unique reasons', () => {
    const values = Object.values(DropReasons);
    expect(new Set(values).size).toBe(values.length);
  });

  it('has every reason produced somewhere in src/ through DropReasons', () => {
    const unused = Object.keys(DropReasons).filter((key) => !src.some((s) => new RegExp(`\\bDropReasons\\.${key}\\b`).test(s.text)));
    expect(unused).toEqual([]);
  });

  it('is the only place a drop reason is spelled out', () => {
    // A reason counted or decided by its literal: drop('x', …), reason: 'x' (AdmitDecision, sipDrops.inc).
    const names = Object.values(DropReasons).join('|');
    const literalUse = new RegExp(`(\\.drop\\(\\s*|reason:\\s*)['"\`](${names})['"\`]`);
    const literal = src.filter((s) => literalUse.test(s.text)).map((s) => s.file);
    expect(literal).toEqual([]);
  });

  it('is documented in the README, reason for reason', () => {
    expect(readmeTable('Drop reasons').sort()).toEqual(Object.values(DropReasons).sort());
  });
});
