/** The outcome of one HTTP attempt; never throws, so the caller decides retry vs dead-letter. */
export interface HttpAttempt {
  ok: boolean;
  /** HTTP status, absent when no response arrived (timeout, refused, bad URL). */
  status?: number;
  /** Why it failed, short and safe to log (no URL, no secrets). */
  error?: string;
  /** No retry can help (unparsable URL, unsupported scheme). */
  permanent: boolean;
  /** Round trip until the response headers (or the failure). */
  seconds: number;
}

/** Bytes of an error response kept for the dead-letter record: enough to read "invalid signature". */
const ERROR_BODY_BYTES = 200;

async function readSnippet(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch {
    // A body that breaks off mid-way still leaves the status to report.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
  // Control characters would garble logs and the CLI listing.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function errorText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code) return `${err.message}: ${cause.code}`;
    return err.message;
  }
  return String(err);
}

/**
 * POSTs one webhook. Redirects are never followed: a 3xx could send the signed payload to another
 * host (the receiver is not trusted to pick where our data goes), so it counts as a failure.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAttempt> {
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1000;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, error: 'invalid callback URL', permanent: true, seconds: 0 };
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return { ok: false, error: `unsupported URL scheme ${target.protocol}`, permanent: true, seconds: 0 };
  }
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { ok: false, error: errorText(err, timeoutMs), permanent: false, seconds: elapsed() };
  }
  const seconds = elapsed();
  if (res.status >= 200 && res.status < 300) {
    // Drain nothing: the body is irrelevant, and cancelling frees the socket at once.
    await res.body?.cancel().catch(() => undefined);
    return { ok: true, status: res.status, permanent: false, seconds };
  }
  let error = `HTTP ${res.status}`;
  if (res.status >= 300 && res.status < 400) {
    error += ' (redirect not followed)';
    await res.body?.cancel().catch(() => undefined);
  } else {
    const snippet = await readSnippet(res);
    if (snippet) error += `: ${snippet}`;
  }
  return { ok: false, status: res.status, error, permanent: false, seconds };
}
