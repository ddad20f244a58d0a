/**
 * A tiny raw SIP client for tests: sends bytes exactly as given over UDP or TCP and collects what comes
 * back, with bounded waits. It deliberately does not use the engine's own parser or framer, so a bug
 * there cannot hide itself in the test. Loopback only.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { startDaemonProcess, type DaemonProcess } from './daemon-process.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A SIP response as the test sees it: status, headers by lowercase full name, raw bytes. */
export interface SipResponse {
  raw: Buffer;
  status: number;
  reason: string;
  /** Header values by lowercase full name (compact forms expanded), in order. */
  headers: Map<string, string[]>;
}

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', l: 'content-length', m: 'contact' };

/** Parses a response's status line and headers; undefined when it is no SIP/2.0 response. */
export function parseResponse(raw: Buffer): SipResponse | undefined {
  const text = raw.toString('latin1');
  const end = headerEnd(text);
  const head = end === -1 ? text : text.slice(0, end);
  const lines = head.split(/\r?\n/);
  const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const raw = line.slice(0, colon).trim().toLowerCase();
    const name = COMPACT[raw] ?? raw;
    const list = headers.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    headers.set(name, list);
  }
  return { raw, status: Number(m[1]), reason: m[2] as string, headers };
}

/** First value of a header of a parsed response. */
export function header(res: SipResponse, name: string): string | undefined {
  return res.headers.get(name)?.[0];
}

/** The method named in a response's CSeq (what the answered request said it was), or ''. */
export function cseqMethod(res: SipResponse): string {
  const v = header(res, 'cseq');
  return v === undefined ? '' : (v.trim().split(/\s+/)[1] ?? '');
}

function headerEnd(text: string): number {
  const a = text.indexOf('\r\n\r\n');
  const b = text.indexOf('\n\n');
  if (a === -1) return b === -1 ? -1 : b + 2;
  return b === -1 || a < b ? a + 4 : b + 2;
}

export interface Datagram {
  data: Buffer;
  address: string;
  port: number;
}

/** One UDP socket bound to a loopback address; everything it receives is kept in `received`. */
export class UdpSipClient {
  readonly received: Datagram[] = [];
  private waiters: Array<() => void> = [];

  private constructor(private readonly socket: UdpSocket) {
    socket.on('message', (data, rinfo) => {
      this.received.push({ data, address: rinfo.address, port: rinfo.port });
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
    // An ICMP error must not crash the test process.
    socket.on('error', () => undefined);
  }

  /** Binds to host:port (port 0 = any free port). Rejects when the address is taken. */
  static async open(host = '127.0.0.1', port = 0): Promise<UdpSipClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpSipClient(socket);
  }

  get address(): string {
    return this.socket.address().address;
  }

  get port(): number {
    return this.socket.address().port;
  }

  async send(data: Buffer | string, port: number, host = '127.0.0.1'): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    await new Promise<void>((resolve, reject) => this.socket.send(buf, port, host, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits until at least `count` datagrams have arrived in total, or timeoutMs passed; returns them all. */
  async waitFor(count: number, timeoutMs: number): Promise<Datagram[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Waits until nothing new has arrived for quietMs (at most maxMs in all). */
  async settle(quietMs: number, maxMs: number): Promise<Datagram[]> {
    const deadline = Date.now() + maxMs;
    let seen = -1;
    while (seen !== this.received.length && Date.now() < deadline) {
      seen = this.received.length;
      await sleep(quietMs);
    }
    return this.received;
  }

  /** Distinct responses (a retransmitted response is the same bytes again and counts once). */
  distinctResponses(): SipResponse[] {
    const seen = new Set<string>();
    const out: SipResponse[] = [];
    for (const d of this.received) {
      const key = d.data.toString('latin1');
      if (seen.has(key)) continue;
      seen.add(key);
      const r = parseResponse(d.data);
      if (r) out.push(r);
    }
    return out;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}

/** One TCP connection; the byte stream coming back is cut into SIP messages and CRLF pongs. */
export class TcpSipClient {
  /** Complete messages received, in order. */
  readonly messages: Buffer[] = [];
  /** Bare CRLFs received outside messages (RFC 5626 pongs). */
  pongs = 0;
  /** True once the connection is closed (by either side). */
  closed = false;
  /** True when the peer closed or reset the connection before we did. */
  closedByPeer = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private endedByUs = false;

  private constructor(private readonly socket: TcpSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.cut();
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      if (!this.endedByUs) this.closedByPeer = true;
      this.wake();
    });
  }

  static async connect(port: number, host = '127.0.0.1', timeoutMs = 5000): Promise<TcpSipClient> {
    const socket = connect({ port, host, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    return new TcpSipClient(socket);
  }

  /** Local port of this connection (the source port the daemon sees). */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Writes bytes; resolves when handed to the kernel, false when the connection is gone. */
  async write(data: Buffer | string): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return false;
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    return new Promise<boolean>((resolve) => this.socket.write(buf, (err) => resolve(!err)));
  }

  /** Waits until `count` messages in total arrived, the connection closed, or timeoutMs passed. */
  async waitFor(count: number, timeoutMs: number): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.nextEvent(left);
    }
    return this.messages;
  }

  /** Waits until the connection closes or timeoutMs passed; true when closed. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.nextEvent(left);
    }
    return this.closed;
  }

  /** Waits until nothing has arrived for quietMs, or the connection closed (at most maxMs). */
  async settle(quietMs: number, maxMs: number): Promise<Buffer[]> {
    const deadline = Date.now() + maxMs;
    let seen = -1;
    while (!this.closed && seen !== this.messages.length + this.buf.length && Date.now() < deadline) {
      seen = this.messages.length + this.buf.length;
      await sleep(quietMs);
    }
    return this.messages;
  }

  responses(): SipResponse[] {
    return this.messages.map((m) => parseResponse(m)).filter((r): r is SipResponse => r !== undefined);
  }

  close(): void {
    this.endedByUs = true;
    this.socket.destroy();
  }

  private nextEvent(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private cut(): void {
    for (;;) {
      let start = 0;
      while (start + 1 < this.buf.length && this.buf[start] === 13 && this.buf[start + 1] === 10) {
        this.pongs++;
        start += 2;
      }
      if (start > 0) this.buf = this.buf.subarray(start);
      const text = this.buf.toString('latin1');
      const end = headerEnd(text);
      if (end === -1) return;
      const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(text.slice(0, end));
      const total = end + (cl ? Number(cl[1]) : 0);
      if (this.buf.length < total) return;
      this.messages.push(Buffer.from(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Prometheus text scraping, for comparing what the daemon counted with what the client saw.

/** One scrape: sample value by `name{label="v",...}` exactly as exposed (labels in exposition order). */
export type MetricSamples = Map<string, number>;

export async function scrapeMetrics(httpBase: string): Promise<MetricSamples> {
  const res = await fetch(`${httpBase}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const out: MetricSamples = new Map();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** Sum of a metric's samples whose labels include every given label=value. */
export function sumMetric(samples: MetricSamples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const metric = brace === -1 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    const labelText = brace === -1 ? '' : key.slice(brace);
    let all = true;
    for (const [k, v] of Object.entries(labels)) {
      if (!labelText.includes(`${k}="${v}"`)) {
        all = false;
        break;
      }
    }
    if (all) sum += value;
  }
  return sum;
}

/** The SIP counters that matter to robustness tests, for one transport. */
export interface SipCounterSnapshot {
  responses: number;
  /** Timer G retransmissions (also included in responses). */
  responseRetransmissions: number;
  /** Absorbed retransmitted requests. */
  requestRetransmissions: number;
  drops: number;
  dropsByReason: Map<string, number>;
  ackRequests: number;
  responsesByCode: Map<number, number>;
}

export function sipCounters(samples: MetricSamples, transport: 'udp' | 'tcp'): SipCounterSnapshot {
  const dropsByReason = new Map<string, number>();
  const responsesByCode = new Map<number, number>();
  for (const [key, value] of samples) {
    if (!key.includes(`transport="${transport}"`)) continue;
    const reason = /^ringproof_sip_drops_total\{.*reason="([^"]*)"/.exec(key);
    if (reason) dropsByReason.set(reason[1] as string, (dropsByReason.get(reason[1] as string) ?? 0) + value);
    const code = /^ringproof_sip_responses_total\{.*code="(\d+)"/.exec(key);
    if (code) responsesByCode.set(Number(code[1]), (responsesByCode.get(Number(code[1])) ?? 0) + value);
  }
  return {
    responses: sumMetric(samples, 'ringproof_sip_responses_total', { transport }),
    responseRetransmissions: sumMetric(samples, 'ringproof_sip_retransmissions_total', { kind: 'response_out', transport }),
    requestRetransmissions: sumMetric(samples, 'ringproof_sip_retransmissions_total', { kind: 'request_in', transport }),
    drops: sumMetric(samples, 'ringproof_sip_drops_total', { transport }),
    dropsByReason,
    ackRequests: sumMetric(samples, 'ringproof_sip_requests_total', { method: 'ACK', transport }),
    responsesByCode,
  };
}

// ---------------------------------------------------------------------------------------------------
// The daemon under test and probes of it, shared by the robustness tests.

/**
 * Starts the built daemon as an edge only (native engine, events logged: no Redis), on UDP and TCP
 * on one port. Logs at warn, so thousands of bad messages do not flood the test's memory.
 */
export function startEdgeDaemon(): Promise<DaemonProcess> {
  return startDaemonProcess({ env: { RINGPROOF_ROLE: 'edge', RINGPROOF_EVENT_SINK: 'log', RINGPROOF_LOG_LEVEL: 'warn' } });
}

/** The daemon's recent output, for assertion messages. */
export function daemonOutput(d: DaemonProcess): string {
  return [...d.logs.stdout.slice(-200), ...d.logs.stderr.slice(-200)].join('\n');
}

let optionsCount = 0;

/** A well-formed OPTIONS from 127.0.0.1:port; `extra` is one more header line, `id` makes branch and Call-ID. */
export function optionsRequest(transport: 'udp' | 'tcp', port: number, extra = '', id = `${transport}-${port}-${++optionsCount}`): string {
  return [
    'OPTIONS sip:ping@127.0.0.1 SIP/2.0',
    `Via: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:${port};branch=z9hG4bK-probe-${id};rport`,
    'Max-Forwards: 70',
    'From: <sip:probe@127.0.0.1>;tag=probe',
    'To: <sip:ping@127.0.0.1>',
    `Call-ID: probe-${id}`,
    'CSeq: 1 OPTIONS',
    ...(extra === '' ? [] : [extra]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends one OPTIONS over a fresh socket and returns the status of the first answer (undefined: none in 2 s). */
export async function optionsStatus(sipPort: number, transport: 'udp' | 'tcp'): Promise<number | undefined> {
  if (transport === 'udp') {
    const c = await UdpSipClient.open();
    try {
      await c.send(optionsRequest('udp', c.port), sipPort);
      const [d] = await c.waitFor(1, 2000);
      return d && parseResponse(d.data)?.status;
    } finally {
      await c.close();
    }
  }
  const c = await TcpSipClient.connect(sipPort);
  try {
    await c.write(optionsRequest('tcp', c.localPort));
    const [m] = await c.waitFor(1, 2000);
    return m && parseResponse(m)?.status;
  } finally {
    c.close();
  }
}

/** A TCP listener that only counts and drops connections: a place the daemon must never connect to. */
export interface TcpDecoy {
  readonly server: Server;
  connections: number;
  close(): Promise<void>;
}

/** Listens on host:port; rejects when the address is taken. */
export async function listenTcpDecoy(host: string, port: number): Promise<TcpDecoy> {
  const server = createServer((c) => {
    decoy.connections++;
    c.destroy();
  });
  const decoy: TcpDecoy = {
    server,
    connections: 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  return decoy;
}
