// Prints, for each vitest JSON report given, the tests that failed and the first lines of their
// errors, then the tests that failed once and passed on CI's retry (flaky: each one is a bug to
// fix, listed so that the retry never hides it). .ci/run calls it last, so these names close the CI
// log, where a reader of its tail finds them (the default reporter prints failures mid-log, before
// the later steps' output).
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
  const flaky = [];
  for (const suite of report.testResults ?? []) {
    const where = relative(process.cwd(), suite.name);
    const tests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of tests) failed.push({ where, title: t.fullName ?? t.title, messages: t.failureMessages ?? [] });
    // A test that passed with failure messages passed on a retry.
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'passed' && (t.failureMessages ?? []).length > 0) {
        flaky.push({ where, title: t.fullName ?? t.title, messages: t.failureMessages });
      }
    }
    // A file that failed outside any test (an import error, a hook) has no failed assertion.
    if (tests.length === 0 && suite.status === 'failed') {
      failed.push({ where, title: '(the file itself: a hook or an import failed)', messages: [suite.message ?? ''] });
    }
  }
  console.log(`    ${file}: ${report.numFailedTests ?? 0} failed of ${report.numTotalTests ?? 0} tests, ${flaky.length} passed only on a retry`);
  for (const f of failed) print('FAIL ', f);
  for (const f of flaky) print('FLAKY', f);
}

function print(label, { where, title, messages }) {
  console.log(`      ${label} ${where} > ${title}`);
  const lines = messages.join('\n').split('\n').filter((l) => l.trim() !== '' && !NOISE.test(l)).slice(0, ERROR_LINES);
  for (const l of lines) console.log(`             ${l.slice(0, 300)}`);
}
