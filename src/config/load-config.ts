import { resolve } from 'node:path';
import { ConfigChecker, type ConfigPath, type ValueOrigin } from './config-checker.js';
import { findOrigin, mergeRaw } from './config-layer.js';
import type { RingproofConfig } from './config-types.js';
import { deepFreeze } from './deep-freeze.js';
import { envLayer, envValue, type EnvLike } from './env-overrides.js';
import { flagLayer, type FlagOverrides } from './flag-overrides.js';
import { readConfigFile, type ConfigFile } from './read-config-file.js';
import { validateConfig } from './validate-config.js';

export type { FlagOverrides } from './flag-overrides.js';

export interface LoadConfigOptions {
  /** YAML file; when absent, RINGPROOF_CONFIG names it; when neither, defaults (a working demo). */
  file?: string;
  env: EnvLike;
  flags?: Partial<FlagOverrides>;
}

/**
 * Builds the configuration once at start-up: defaults < YAML file < environment < flags.
 * Throws RingproofError CONFIG_UNREADABLE (file cannot be read or parsed) or CONFIG_INVALID, whose
 * one-line message starts with the key path, e.g. `trunks[0].rejectCode: must be 486 or 603, got 480 (x.yaml line 9)`.
 * The result is deeply frozen.
 */
export function loadConfig(opts: LoadConfigOptions): RingproofConfig {
  const fromEnv = opts.file === undefined ? envValue(opts.env, 'RINGPROOF_CONFIG') : undefined;
  const fileName = opts.file ?? fromEnv;
  let file: ConfigFile | undefined;
  if (fileName !== undefined) {
    try {
      file = readConfigFile(fileName);
    } catch (err) {
      if (fromEnv !== undefined && err instanceof Error) err.message += ' (named by env RINGPROOF_CONFIG)';
      throw err;
    }
  }
  const env = envLayer(opts.env);
  const flags = flagLayer(opts.flags ?? {});
  const origins = new Map<string, ValueOrigin>([...env.origins, ...flags.origins]);
  const origin = (path: ConfigPath): ValueOrigin | undefined => {
    const o = findOrigin(origins, path);
    if (o || !file || fileName === undefined) return o;
    if (path.length === 0) return { label: fileName, text: false };
    const line = file.lineOf(path);
    return line === undefined ? undefined : { label: `${fileName} line ${line}`, text: false };
  };
  const checker = new ConfigChecker(origin);

  // A file that is a list or a scalar cannot take overrides; report it before merging.
  let raw: unknown = file?.data ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) checker.mapping(raw, [], []);
  raw = mergeRaw(mergeRaw(raw, env.data), flags.data);

  const config = validateConfig(checker, raw, fileName === undefined ? undefined : resolve(fileName));
  return deepFreeze(config);
}
