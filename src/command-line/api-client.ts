import { ErrorCodes, type ErrorCode } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import type { Verification } from '../verify/verification-types.js';

/** The API answered with an error body ({error: {code, message, field?}}). */
export class ApiResponseError extends RingproofError {
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, code: ErrorCode, message: string, field?: string) {
    super(code, message);
    this.name = 'ApiResponseError';
    this.status = status;
    this.field = field;
  }
}

/** No usable answer: connection refused, timeout, or a reply that is not the API's JSON. */
export class ApiUnreachableError extends RingproofError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.API_UNREACHABLE, message, options);
    this.name = 'ApiUnreachableError';
  }
}

export interface ApiClientOptions {
  /** e.g. "http://127.0.0.1:8080" */
  baseUrl: string;
  apiKey?: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface CreateVerificationRequest {
  phoneNumber: string;
  country?: string;
  ttlSeconds?: number;
  callbackUrl?: string;
  metadata?: Record<string, unknown>;
}

export interface CreateVerificationResult {
  verification: Verification;
  /** True when the Idempotency-Key matched an earlier create. */
  replayed: boolean;
}

/** A blocklist entry as the API returns it. */
export interface BlocklistResource {
  kind: string;
  value: string;
  reason: string;
  note?: string;
  expiresAt: string | null;
  createdAt: string;
  createdBy: string;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** A small fetch-based client of /v1/verifications. */
export class ApiClient {
  private readonly base: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: ApiClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchFn = opts.fetch ?? fetch;
  }

  async createVerification(body: CreateVerificationRequest, opts: { idempotencyKey?: string } = {}): Promise<CreateVerificationResult> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = opts.idempotencyKey;
    const res = await this.request('POST', '/v1/verifications', headers, JSON.stringify(body));
    return { verification: res.body as Verification, replayed: res.headers.get('idempotency-replayed') === 'true' };
  }

  async getVerification(id: string): Promise<Verification> {
    return (await this.request('GET', `/v1/verifications/${encodeURIComponent(id)}`)).body as Verification;
  }

  async cancelVerification(id: string): Promise<Verification> {
    return (await this.request('DELETE', `/v1/verifications/${encodeURIComponent(id)}`)).body as Verification;
  }

  /** GET /v1/blocklist (admin key): the entries in force. */
  async listBlocklist(): Promise<BlocklistResource[]> {
    return ((await this.request('GET', '/v1/blocklist')).body as { entries: BlocklistResource[] }).entries;
  }

  /** POST /v1/blocklist (admin key): adds or replaces an entry. */
  async addBlocklist(body: Record<string, unknown>): Promise<BlocklistResource> {
    const res = await this.request('POST', '/v1/blocklist', { 'content-type': 'application/json' }, JSON.stringify(body));
    return (res.body as { entry: BlocklistResource }).entry;
  }

  /** DELETE /v1/blocklist/:kind/:value (admin key); a 404 when there is no such entry. */
  async removeBlocklist(kind: string, value: string): Promise<void> {
    await this.request('DELETE', `/v1/blocklist/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`);
  }

  private async request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ body: unknown; headers: Headers }> {
    const url = `${this.base}${path}`;
    const all: Record<string, string> = { accept: 'application/json', ...headers };
    if (this.apiKey !== undefined && this.apiKey !== '') all.authorization = `Bearer ${this.apiKey}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, { method, headers: all, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const reason = err instanceof Error ? describeFetchError(err) : String(err);
      throw new ApiUnreachableError(`cannot reach the ringproof API at ${this.base}: ${reason}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new ApiUnreachableError(`${method} ${url} answered ${res.status} with a body that is not JSON`, { cause: err });
    }
    if (res.ok) return { body: parsed, headers: res.headers };
    throw toResponseError(res.status, parsed);
  }
}

function toResponseError(status: number, body: unknown): ApiResponseError {
  const e = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  const code = typeof e?.code === 'string' && KNOWN_CODES.has(e.code) ? (e.code as ErrorCode) : ErrorCodes.INTERNAL;
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  return new ApiResponseError(status, code, message, typeof e?.field === 'string' ? e.field : undefined);
}

function describeFetchError(err: Error): string {
  if (err.name === 'TimeoutError') return 'timed out';
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
