// Reads a redis-server's memory figures for the bench, over its unix socket or TCP port, with a few
// lines of RESP instead of a client library: one command per connection, a handful per step.
import net from 'node:net';

/**
 * Sends one command (array of strings) and resolves with its reply: a string for a bulk or simple
 * reply, a number for an integer; rejects on an error reply, a closed connection or the timeout.
 * `addr` is {path} (unix socket) or {host, port}.
 */
export function redisCommand(addr, args, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const sock = addr.path ? net.createConnection(addr.path) : net.createConnection(addr.port, addr.host ?? '127.0.0.1');
    let buf = Buffer.alloc(0);
    const done = (err, value) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    sock.setTimeout(timeoutMs, () => done(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)));
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error(`redis ${args[0]}: connection closed before the reply`)));
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = buf.subarray(1, eol).toString('utf8');
      switch (buf[0]) {
        case 0x2b: // +simple
          return done(undefined, line);
        case 0x2d: // -error
          return done(new Error(`redis ${args[0]}: ${line}`));
        case 0x3a: // :integer
          return done(undefined, Number(line));
        case 0x24: { // $bulk
          const len = Number(line);
          if (len < 0) return done(undefined, undefined);
          if (buf.length < eol + 2 + len) return undefined;
          return done(undefined, buf.subarray(eol + 2, eol + 2 + len).toString('utf8'));
        }
        default:
          return done(new Error(`redis ${args[0]}: unexpected reply ${JSON.stringify(line.slice(0, 40))}`));
      }
    });
    sock.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((acc, a) => acc + a, `*${args.length}\r\n`));
  });
}

/** `INFO section` as {field: value} (numbers where they are numbers). */
export async function redisInfo(addr, section = 'memory') {
  const text = await redisCommand(addr, ['INFO', section]);
  const out = {};
  for (const line of String(text).split('\r\n')) {
    const i = line.indexOf(':');
    if (i <= 0 || line.startsWith('#')) continue;
    const v = line.slice(i + 1);
    out[line.slice(0, i)] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return out;
}

/**
 * The figures the memory columns use: used_memory and used_memory_rss (bytes), key count, and keys
 * with a TTL; NaNs when redis does not answer (the sample is then shown as missing, not as zero).
 */
export async function redisMemory(addr) {
  try {
    const [mem, keyspace] = await Promise.all([redisInfo(addr, 'memory'), redisInfo(addr, 'keyspace')]);
    let keys = 0;
    let expires = 0;
    for (const [k, v] of Object.entries(keyspace)) {
      if (!/^db\d+$/.test(k)) continue;
      keys += Number(/keys=(\d+)/.exec(String(v))?.[1] ?? 0);
      expires += Number(/expires=(\d+)/.exec(String(v))?.[1] ?? 0);
    }
    return { usedBytes: mem.used_memory, rssBytes: mem.used_memory_rss, keys, expires, maxmemory: mem.maxmemory };
  } catch {
    return { usedBytes: NaN, rssBytes: NaN, keys: NaN, expires: NaN, maxmemory: NaN };
  }
}
