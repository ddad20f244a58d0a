import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** A Lua script run through ioredis defineCommand (EVALSHA, falling back to EVAL once per node). */
export interface LuaScript {
  /** Command name on the client; "rp" prefixed so it cannot clash with BullMQ's commands. */
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

const defined = new WeakMap<RedisClient, Set<string>>();

export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`${script.name}: expected ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  let names = defined.get(client);
  if (!names) {
    names = new Set();
    defined.set(client, names);
  }
  if (!names.has(script.name)) {
    client.defineCommand(script.name, { lua: script.lua, numberOfKeys: script.numberOfKeys });
    names.add(script.name);
  }
  const fn = (client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[script.name];
  if (typeof fn !== 'function') throw new Error(`${script.name} was not defined on the client`);
  return fn.call(client, ...keys, ...args);
}

/** HGETALL as a Lua reply (flat array) → object. */
export function pairsToRecord(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}
