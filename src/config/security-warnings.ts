import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { isLocalhostName } from '../egress/assert-public-url.js';
import { classifyAddress } from '../egress/egress-ranges.js';
import type { RingproofConfig } from './config-types.js';
import { defaultConfig } from './defaults.js';
import { readConfigFile } from './read-config-file.js';

/** A start-up warning: a message for people, and fields for log queries. Never holds a secret. */
export interface SecurityWarning {
  message: string;
  fields: Record<string, unknown>;
}

function at(data: unknown, path: readonly string[]): unknown {
  let v = data;
  for (const k of path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

const nonEmptyList = (v: unknown): boolean => Array.isArray(v) && v.length > 0;
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';
const urlWithPassword = (v: unknown): boolean => {
  if (typeof v !== 'string') return false;
  try {
    return new URL(v).password !== '';
  } catch {
    return false;
  }
};

/** The keys whose values are secrets (or, for api.keys, hashes an attacker could grind offline). */
const SECRET_KEYS: ReadonlyArray<{ path: readonly string[]; holds: (v: unknown) => boolean }> = [
  { path: ['webhooks', 'secrets'], holds: nonEmptyList },
  { path: ['api', 'keys'], holds: nonEmptyList },
  { path: ['sip', 'drachtio', 'secret'], holds: present },
  { path: ['redis', 'url'], holds: urlWithPassword },
];

/** The secret keys written in the config file itself (not in the environment). */
export function secretKeysInFile(file: string): string[] {
  const { data } = readConfigFile(file);
  return SECRET_KEYS.filter((k) => k.holds(at(data, k.path))).map((k) => k.path.join('.'));
}

function isLoopbackHost(host: string): boolean {
  return isIP(host) !== 0 ? classifyAddress(host) === 'loopback' : isLocalhostName(host);
}

/**
 * What an operator should fix before exposing this process: a config file holding secrets that
 * other users can read, and drachtio's well-known default secret on a control socket that is not
 * on loopback. Run once at start-up; the messages name keys and files, never values.
 */
export function securityWarnings(config: RingproofConfig): SecurityWarning[] {
  const warnings: SecurityWarning[] = [];
  const file = config.sourceFile;
  if (file !== undefined) {
    let mode = 0;
    let keys: string[] = [];
    try {
      mode = statSync(file).mode & 0o777;
      keys = secretKeysInFile(file);
    } catch {
      // Read once already by loadConfig; gone or changed since, there is nothing left to warn about.
    }
    if (keys.length > 0 && (mode & 0o044) !== 0) {
      const octal = mode.toString(8).padStart(4, '0');
      warnings.push({
        message: `config file ${file} holds secrets (${keys.join(', ')}) and other users can read it (mode ${octal}): `
          + 'chmod 600 it (owned by the service user), or give the secrets by environment',
        fields: { file, keys, mode: octal },
      });
    }
  }
  const { engine, drachtio } = config.sip;
  const runsEdge = config.role === 'all' || config.role === 'edge';
  if (runsEdge && engine === 'drachtio' && drachtio.secret === defaultConfig().sip.drachtio.secret && !isLoopbackHost(drachtio.host)) {
    warnings.push({
      message: `sip.drachtio.secret is drachtio's well-known default and drachtio-server (${drachtio.host}:${drachtio.port}) is not on `
        + 'loopback: whoever reaches its control port can take over its SIP traffic; set the same new secret in both',
      fields: { key: 'sip.drachtio.secret', host: drachtio.host, port: drachtio.port },
    });
  }
  return warnings;
}
