import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { classifyAddress } from '../egress/index.js';
import { X5uFetchError, type X5uFetcher, type X5uFetchLimits } from './x5u-fetcher.js';

export interface HttpsX5uFetcherOptions {
  /** Let x5u URLs reach loopback and private addresses (a lab, or a certificate server inside the network). */
  allowPrivateAddresses: boolean;
  /** Extra CA certificates (PEM) for the TLS connection, replacing the system store; tests and private PKI. */
  ca?: string | Buffer;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The default x5u fetcher: one GET over node:https, no redirects followed, no connection reuse.
 * "Public" is the egress guard's rule (src/egress), the one webhooks follow.
 * The address check runs in the socket's DNS lookup, so the address connected to is the one checked
 * (a name cannot resolve to a public address for the check and a private one for the connect); a
 * name with any non-public address is refused outright.
 */
export class HttpsX5uFetcher implements X5uFetcher {
  constructor(private readonly opts: HttpsX5uFetcherOptions) {}

  private allowed(address: string): boolean {
    return this.opts.allowPrivateAddresses || classifyAddress(address) === 'public';
  }

  private readonly lookup = (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const bad = addresses.find((a) => !this.allowed(a.address));
      if (bad !== undefined || addresses.length === 0) {
        return callback(new X5uFetchError('refused', 'x5u host resolves to a non-public address'), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };

  fetch(url: URL, limits: X5uFetchLimits): Promise<Uint8Array> {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0 && !this.allowed(host)) {
      return Promise.reject(new X5uFetchError('refused', 'x5u points at a non-public address'));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | undefined, body?: Uint8Array): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err !== undefined) {
          req.destroy();
          reject(err instanceof X5uFetchError ? err : new X5uFetchError('network', err.message));
        } else resolve(body as Uint8Array);
      };
      const req = request({
        host,
        port: url.port === '' ? 443 : Number(url.port),
        path: url.pathname,
        method: 'GET',
        servername: isIP(host) === 0 ? host : undefined,
        ca: this.opts.ca,
        agent: false,
        lookup: this.lookup as never,
        headers: { accept: 'application/pem-certificate-chain, application/x-pem-file;q=0.9, */*;q=0.1', 'user-agent': 'ringproof' },
      });
      const timer = setTimeout(() => finish(new X5uFetchError('timeout', `x5u fetch took longer than ${limits.timeoutMs} ms`)), limits.timeoutMs);
      req.on('error', (err) => finish(err));
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return finish(new X5uFetchError('status', `x5u answered HTTP ${res.statusCode ?? 0}`));
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > limits.maxBytes) return finish(new X5uFetchError('too_large', `x5u body larger than ${limits.maxBytes} bytes`));
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > limits.maxBytes) finish(new X5uFetchError('too_large', `x5u body larger than ${limits.maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => finish(undefined, Buffer.concat(chunks)));
        res.on('error', (err) => finish(err));
      });
      req.end();
    });
  }
}
