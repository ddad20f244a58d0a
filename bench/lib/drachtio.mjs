// The drachtio-server the `--engine drachtio` bench runs ringproof behind. The bench never builds or
// starts it (the user does, see bench/README.md); it only needs its addresses and finds its pid, so
// drachtio-server's CPU is counted with ringproof's.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** "host:port[:secret]" (the admin address) → {host, port, secret}; the secret defaults to drachtio's "cymru". */
export function parseDrachtioAdmin(text, label = '--drachtio') {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})(?::(.*))?$/.exec(String(text).trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${label}: "${text}" is not host:port[:secret]`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]), secret: m[3] || 'cymru' };
}

/** "host:port" of drachtio-server's SIP contact. */
export function parseHostPort(text, label = '--drachtio-sip') {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(String(text).trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${label}: "${text}" is not host:port`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Socket inodes listening on TCP `port` (any address), from /proc/net/tcp and tcp6. */
function listeningInodes(port) {
  const inodes = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const localPort = parseInt(f[1].split(':').pop(), 16);
      if (localPort === port) inodes.add(f[9]);
    }
  }
  return inodes;
}

/**
 * The pid of the process listening on TCP `port` on this machine (drachtio-server's admin port),
 * or undefined. Reads /proc/PID/fd links, so it needs the right to read them (same user or root).
 */
export function pidListeningOn(port) {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${d}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${d}/fd/${fd}`));
        if (m && inodes.has(m[1])) return Number(d);
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return undefined;
}

/**
 * drachtio-server answers every new INVITE 100 Trying before any application sees it; the native
 * engine never sends a 1xx, so the shared scenario does not expect one. Writes a copy of `scenarioPath`
 * into `dir` with an optional 100 before the first response of every INVITE (the same rewrite as the
 * drachtio test suite's tolerate100()), and returns its path.
 */
export function tolerate100(scenarioPath, dir) {
  const xml = readFileSync(scenarioPath, 'latin1');
  const invite = /(<send[^>]*>\s*<!\[CDATA\[\s*INVITE [\s\S]*?<\/send>\s*(?:<!--[\s\S]*?-->\s*)*)(<recv response=")/g;
  const hits = [...xml.matchAll(invite)];
  let out = xml;
  if (hits.some((h) => !/^<recv response="100"/.test(xml.slice(h.index + h[1].length)))) {
    if (hits.length !== 1) throw new Error(`${scenarioPath}: the 100 Trying rewrite handles one INVITE per scenario, found ${hits.length}`);
    const at = hits[0].index + hits[0][1].length;
    // The ACK to a non-2xx reuses the INVITE's branch via [branch-N], N counting scenario messages
    // back to the INVITE: one more message in between means N + 1, or drachtio-server would not
    // match the ACK to its transaction and would keep resending the 486 (timer G).
    const rest = xml.slice(at).replace(/\[branch-(\d+)\]/g, (_, n) => `[branch-${Number(n) + 1}]`);
    out = `${xml.slice(0, at)}<recv response="100" optional="true"/>\n  ${rest}`;
  } else if (hits.length === 0) {
    throw new Error(`${scenarioPath}: found no INVITE followed by a <recv> to insert the optional 100 Trying before`);
  }
  const file = join(dir, `drachtio-${basename(scenarioPath)}`);
  writeFileSync(file, out, 'latin1');
  return file;
}
