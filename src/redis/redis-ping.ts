import { createConnection } from 'node:net';

export type PingResult = 'pong' | 'loading' | 'down';

/**
 * One PING over a unix socket with a raw RESP exchange: used to tell when a freshly spawned
 * redis-server can take commands (it answers -LOADING while it replays its AOF) without involving
 * the ioredis retry machinery.
 */
export function pingUnixSocket(path: string, timeoutMs: number): Promise<PingResult> {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const sock = createConnection({ path });
    const done = (r: PingResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('down'), timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const eol = buf.indexOf('\r\n');
      if (eol === -1) return;
      const line = buf.slice(0, eol);
      if (line === '+PONG') done('pong');
      else if (line.startsWith('-LOADING')) done('loading');
      else done('down');
    });
    sock.once('error', () => done('down'));
    sock.once('close', () => done('down'));
  });
}
