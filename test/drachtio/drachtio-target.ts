/**
 * Where the drachtio integration suite finds its drachtio-server: RINGPROOF_TEST_DRACHTIO as
 * "host:port[:secret]" (the admin address; the secret defaults to drachtio's "cymru").
 */
export interface DrachtioTarget {
  host: string;
  port: number;
  secret: string;
}

export const DRACHTIO_TARGET_ENV = 'RINGPROOF_TEST_DRACHTIO';

export function parseDrachtioTarget(value: string | undefined): DrachtioTarget | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})(?::(.*))?$/.exec(value.trim());
  if (!m) throw new Error(`${DRACHTIO_TARGET_ENV}="${value}": expected host:port[:secret]`);
  const port = Number(m[2]);
  if (port < 1 || port > 65_535) throw new Error(`${DRACHTIO_TARGET_ENV}="${value}": port out of range`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port, secret: m[3] ?? 'cymru' };
}

/**
 * The target from the environment; throws at once when it is not set, since running a drachtio suite
 * is asking for a drachtio-server.
 */
export function requireDrachtioTarget(env: NodeJS.ProcessEnv = process.env): DrachtioTarget {
  const target = parseDrachtioTarget(env[DRACHTIO_TARGET_ENV]);
  if (!target) {
    throw new Error(`${DRACHTIO_TARGET_ENV} is not set: this suite needs a drachtio-server admin address (host:port[:secret])`);
  }
  return target;
}
