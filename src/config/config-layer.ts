import { formatPath, type ConfigPath, type ValueOrigin } from './config-checker.js';

/** One source of raw settings (environment, flags) and where each of its values came from. */
export interface ConfigLayer {
  data: Record<string, unknown>;
  /** Keyed by formatPath of the path that was set. */
  origins: Map<string, ValueOrigin>;
}

export function emptyLayer(): ConfigLayer {
  return { data: {}, origins: new Map() };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own-property assignment, so a "__proto__" key from a file stays a (rejected) key instead of a prototype. */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function setIn(layer: ConfigLayer, path: readonly string[], value: unknown, origin: ValueOrigin): void {
  let node = layer.data;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isMapping(next)) put(node, key, {});
    node = node[key] as Record<string, unknown>;
  }
  put(node, path[path.length - 1]!, value);
  layer.origins.set(formatPath(path), origin);
}

/** Later wins; mappings merge key by key, lists and scalars replace whole (a list from env is the full list). */
export function mergeRaw(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isMapping(base) || !isMapping(over)) return over;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(base)) put(out, key, base[key]);
  for (const key of Object.keys(over)) put(out, key, mergeRaw(Object.hasOwn(out, key) ? out[key] : undefined, over[key]));
  return out;
}

/** The origin of path or of its nearest ancestor that a layer set. */
export function findOrigin(origins: Map<string, ValueOrigin>, path: ConfigPath): ValueOrigin | undefined {
  for (let n = path.length; n > 0; n--) {
    const o = origins.get(formatPath(path.slice(0, n)));
    if (o) return o;
  }
  return undefined;
}
