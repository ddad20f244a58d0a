import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The SIPp scenario for the load: the project's own sipp-scenarios/uac-reject.xml with its callers.csv
 * when both are there (what users run), else the bench's self-contained bench/uac-load.xml.
 * Returns what runSipp spreads into its options: scenario path and extra SIPp arguments.
 */
export function chooseScenario(root, choice = 'auto') {
  const sharedXml = join(root, 'sipp-scenarios/uac-reject.xml');
  const sharedCsv = join(root, 'sipp-scenarios/callers.csv');
  const own = join(root, 'bench/uac-load.xml');
  const useShared = choice === 'shared' || (choice === 'auto' && existsSync(sharedXml) && existsSync(sharedCsv));
  if (useShared) {
    if (!existsSync(sharedXml) || !existsSync(sharedCsv)) throw new Error('sipp-scenarios/uac-reject.xml or callers.csv is missing');
    return { scenario: sharedXml, extraArgs: ['-inf', sharedCsv], label: 'sipp-scenarios/uac-reject.xml -inf sipp-scenarios/callers.csv' };
  }
  if (choice !== 'auto' && choice !== 'bench') {
    if (!existsSync(choice)) throw new Error(`--scenario: ${choice} does not exist`);
    return { scenario: choice, extraArgs: [], label: choice };
  }
  return { scenario: own, extraArgs: [], label: 'bench/uac-load.xml' };
}
