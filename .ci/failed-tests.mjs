// Prints, for each vitest JSON report given, the tests that failed and the first lines of their
// errors. .ci/run calls it last, so the names of the failing tests close the CI log, where a reader
// of its tail finds them (the default reporter prints them mid-log, before the later steps' output).
//
//   node .ci/failed-tests.mjs REPORT.json [REPORT.json ...]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const ERROR_LINES = 6;
// Stack frames inside the test runner or node say nothing about the failure.
const NOISE = /node_modules|node:internal|new Promise \(<anonymous>\)/;

for (const file of process.argv.slice(2)) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`    ${file}: no readable report (${err.code ?? err.message}): the step ended before vitest wrote it`);
    continue;
  }
  const failed = [];
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name);
    const tests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of tests) failed.push({ where, title: t.fullName ?? t.title, messages: t.failureMessages ?? [] });
    // A file that failed outside any test (an import error, a hook) has no failed assertion.
    if (tests.length === 0 && suite.status === 'failed') {
      failed.push({ where, title: '(the file itself: a hook or an import failed)', messages: [suite.message ?? ''] });
    }
  }
  console.log(`    ${file}: ${report.numFailedTests ?? 0} failed of ${report.numTotalTests ?? 0} tests`);
  for (const f of failed) {
    console.log(`      FAIL ${f.where} > ${f.title}`);
    const lines = f.messages.join('\n').split('\n').filter((l) => l.trim() !== '' && !NOISE.test(l)).slice(0, ERROR_LINES);
    for (const l of lines) console.log(`           ${l.slice(0, 300)}`);
  }
}
