import { emptyLayer, setIn, type ConfigLayer } from './config-layer.js';

/** Command-line overrides of `ringproof serve`; they win over the file and the environment. */
export interface FlagOverrides {
  sipListen?: string[];
  httpListen?: string;
  logLevel?: string;
  role?: string;
  stateDir?: string;
  engine?: string;
}

/** The option each override is expected to come from, so errors name what the operator typed. */
export const FLAG_OPTIONS: Readonly<Record<keyof FlagOverrides, { flag: string; path: readonly string[] }>> = {
  sipListen: { flag: '--sip-listen', path: ['sip', 'listen'] },
  httpListen: { flag: '--http-listen', path: ['http', 'listen'] },
  logLevel: { flag: '--log-level', path: ['log', 'level'] },
  role: { flag: '--role', path: ['role'] },
  stateDir: { flag: '--state-dir', path: ['stateDir'] },
  engine: { flag: '--engine', path: ['sip', 'engine'] },
};

export function flagLayer(flags: Partial<FlagOverrides>): ConfigLayer {
  const layer = emptyLayer();
  for (const [key, { flag, path }] of Object.entries(FLAG_OPTIONS)) {
    const v = flags[key as keyof FlagOverrides];
    if (v === undefined) continue;
    // "--sip-listen a,b" and "--sip-listen a --sip-listen b" mean the same list.
    const value = Array.isArray(v) ? v.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '') : v;
    setIn(layer, path, value, { label: `flag ${flag}`, text: true });
  }
  return layer;
}
