/**
 * The drachtio suite's server: every file in test/drachtio/ reads its target from
 * RINGPROOF_TEST_DRACHTIO (requireDrachtioTarget()). When that is set, the suite runs against that
 * server (one a user runs already, e.g. drachtio's public image). Otherwise a drachtio-server binary
 * (RINGPROOF_DRACHTIO_BIN, or the team's shared/ copy) is started here on free loopback ports with a
 * random secret, and the variable is set for the test workers, which inherit this process's env.
 * The server is stopped at the end; its temp dir (config and a log of every SIP message) is kept and
 * named when a test failed.
 */
import type { TestProject } from 'vitest/node';
import { DRACHTIO_BIN_ENV, findDrachtioBinary, startDrachtioServer } from '../../scripts/lib/drachtio-server.mjs';
import { DRACHTIO_TARGET_ENV, parseDrachtioTarget } from './drachtio-target.js';

/** True when the run had a failure (or its outcome cannot be read, so the log is kept). */
function runFailed(project: TestProject): boolean {
  try {
    const state = project.vitest.state;
    if (state.getCountOfFailedTests() > 0 || state.getUnhandledErrors().length > 0) return true;
    return state.getFiles().some((f) => f.result?.state === 'fail');
  } catch {
    return true;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = parseDrachtioTarget(process.env[DRACHTIO_TARGET_ENV]);
  if (given) {
    process.stderr.write(`drachtio suite: against the drachtio-server at ${given.host}:${given.port} (${DRACHTIO_TARGET_ENV})\n`);
    return undefined;
  }
  const binary = findDrachtioBinary();
  if (!binary) {
    throw new Error(
      `the drachtio suite needs a drachtio-server: set ${DRACHTIO_TARGET_ENV}=host:port:secret (a running server's admin address) ` +
      `or ${DRACHTIO_BIN_ENV}=/path/to/drachtio (a binary the suite starts itself)`,
    );
  }
  const server = await startDrachtioServer({ binary });
  process.env[DRACHTIO_TARGET_ENV] = server.target;
  process.stderr.write(`drachtio suite: started ${binary} (pid ${server.pid}), SIP udp+tcp ${server.sip.host}:${server.sip.port}, admin port ${server.admin.port}\n`);
  return async () => {
    const keepLogs = runFailed(project) || !server.running;
    if (!server.running) process.stderr.write(`drachtio suite: drachtio-server pid ${server.pid} exited during the run\n`);
    await server.stop({ keepLogs });
    if (keepLogs) process.stderr.write(`drachtio suite: drachtio-server config and log kept in ${server.dir}\n`);
  };
}
