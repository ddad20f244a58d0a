// A throwaway drachtio-server for the drachtio test suite (test/drachtio/global-setup.ts) and the
// bench (`npm run bench -- --engine drachtio`): a generated config on free loopback ports (SIP on
// UDP+TCP, the admin port, a random secret) in a temp dir, stopped afterwards, its log kept when the
// caller asks (a failed run).
//
//   node scripts/lib/drachtio-server.mjs which   prints the binary that would be used, or why none (exit 1)
//
// Plain JavaScript so that the bench (.mjs, run by node) and vitest (TypeScript) share one copy;
// drachtio-server.d.mts gives the tests its types.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../bench/lib/free-port.mjs';

export const DRACHTIO_BIN_ENV = 'RINGPROOF_DRACHTIO_BIN';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SHARED_BIN = 'shared/peers/drachtio-server/bin/drachtio';

/**
 * The local repository this checkout was cloned from (`git clone /work/main /tmp/ci` records
 * /work/main as origin), or undefined: a network remote, no git, not a clone.
 */
function localOrigin() {
  let url;
  try {
    url = execFileSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
  if (url.startsWith('file://')) return fileURLToPath(url);
  return isAbsolute(url) ? url : undefined;
}

/**
 * Where the team's relocatable binary is looked for when RINGPROOF_DRACHTIO_BIN is not set:
 * shared/peers/drachtio-server/ beside the checkout (/work/main) or beside its parent (a worktree
 * under /work/wt/), and the same beside the local repository it was cloned from (CI's fresh clone
 * in a temp dir).
 * @returns {string[]}
 */
export function defaultDrachtioBins() {
  const bases = [repoRoot, localOrigin()].filter((b) => b !== undefined);
  return [...new Set(bases.flatMap((base) => ['..', '../..'].map((up) => resolve(base, up, SHARED_BIN))))];
}

/**
 * The drachtio-server binary to start: RINGPROOF_DRACHTIO_BIN when set (an error when it is not an
 * executable file: a path given on purpose must not be skipped silently), else the first default
 * path that exists, else undefined.
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string | undefined}
 */
export function findDrachtioBinary(env = process.env) {
  const given = env[DRACHTIO_BIN_ENV]?.trim();
  if (given) {
    if (!executable(resolve(given))) throw new Error(`${DRACHTIO_BIN_ENV}=${given}: not an executable file`);
    return resolve(given);
  }
  return defaultDrachtioBins().find(executable);
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const xmlText = (s) => String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

/** drachtio.conf.xml for one loopback instance: SIP UDP+TCP on `sipPort`, admin on `adminPort`, no CDRs, no Prometheus. */
function configXml({ host, sipPort, adminPort, secret, sofiaLogLevel, logLevel }) {
  return `<drachtio>
  <admin port="${adminPort}" secret="${xmlText(secret)}">${host}</admin>
  <sip>
    <contacts><contact>sip:${host}:${sipPort};transport=udp,tcp</contact></contacts>
  </sip>
  <cdrs>false</cdrs>
  <logging>
    <console/>
    <sofia-loglevel>${sofiaLogLevel}</sofia-loglevel>
    <loglevel>${logLevel}</loglevel>
  </logging>
</drachtio>
`;
}

function tcpConnects(host, port) {
  return new Promise((done) => {
    const s = createConnection({ host, port });
    s.once('connect', () => { s.destroy(); done(true); });
    s.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts drachtio-server and resolves once its admin port and SIP TCP port accept connections.
 * Ports are probed free and then bound by drachtio-server, so another process can take one in
 * between: a server that exits during start-up is retried on new ports (3 tries).
 *
 * @param {{ binary: string, host?: string, sofiaLogLevel?: number, logLevel?: string, startTimeoutMs?: number }} opts
 *   sofiaLogLevel 3 logs every SIP message (the tests' default, for a failed run's log); the bench uses 1.
 */
export async function startDrachtioServer(opts) {
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      if (!err.retryable) break;
    }
  }
  throw lastError;
}

async function startOnce({ binary, host = '127.0.0.1', sofiaLogLevel = 3, logLevel = 'info', startTimeoutMs = 15_000 }) {
  const dir = mkdtempSync(join(tmpdir(), 'rp-drachtio-'));
  const sipPort = await freePort(host);
  let adminPort = await freePort(host);
  while (adminPort === sipPort) adminPort = await freePort(host);
  const secret = randomBytes(18).toString('base64url');
  const configFile = join(dir, 'drachtio.conf.xml');
  const logFile = join(dir, 'drachtio.log');
  writeFileSync(configFile, configXml({ host, sipPort, adminPort, secret, sofiaLogLevel, logLevel }));
  const log = createWriteStream(logFile);
  await new Promise((r) => log.once('open', r));
  // stdout and stderr straight into the file: the log survives this process, and no pipe can fill.
  const child = spawn(binary, ['-f', configFile], { cwd: dir, stdio: ['ignore', log, log] });
  let exit;
  const exited = new Promise((r) => child.once('exit', (code, signal) => { exit = { code, signal }; r(); }));
  child.once('error', (err) => { exit = { error: err }; });
  const logTail = () => { try { return readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join(' / '); } catch { return ''; } };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exit) {
      log.end();
      const why = exit.error ? exit.error.message : `exit ${exit.code ?? exit.signal}`;
      const err = new Error(`drachtio-server ${binary} did not start (${why}); log ${logFile}: ${logTail()}`);
      // Exited by itself (a port taken meanwhile, most likely): new ports may do. A spawn error will not.
      err.retryable = !exit.error;
      throw err;
    }
    if ((await tcpConnects(host, adminPort)) && (await tcpConnects(host, sipPort))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      log.end();
      throw new Error(`drachtio-server did not listen on ${host}:${adminPort} (admin) and ${sipPort} (SIP) within ${startTimeoutMs} ms; log ${logFile}: ${logTail()}`);
    }
    await sleep(50);
  }
  const server = {
    pid: child.pid,
    admin: { host, port: adminPort, secret },
    sip: { host, port: sipPort },
    /** "host:port:secret", the form RINGPROOF_TEST_DRACHTIO and the bench's --drachtio take. */
    target: `${host}:${adminPort}:${secret}`,
    dir,
    logFile,
    get running() { return !exit; },
    /** SIGTERM, SIGKILL after 5 s; the temp dir (config and log) is removed unless keepLogs. */
    async stop({ keepLogs = false } = {}) {
      if (!exit) {
        child.kill('SIGTERM');
        const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
        if (timedOut) { child.kill('SIGKILL'); await exited; }
      }
      await new Promise((r) => log.end(r));
      if (!keepLogs) rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== 'which') {
    process.stderr.write('usage: node scripts/lib/drachtio-server.mjs which\n');
    process.exit(2);
  }
  try {
    const bin = findDrachtioBinary();
    if (!bin) {
      process.stdout.write(`no drachtio-server binary (${DRACHTIO_BIN_ENV} is not set and none at ${defaultDrachtioBins().join(' or ')})\n`);
      process.exit(1);
    }
    process.stdout.write(`${bin}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
