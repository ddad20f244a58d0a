// The few calls the e2e bench makes to ringproof's HTTP API, as a business app would. With no API
// keys configured the daemon serves loopback clients without a Bearer token.

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapBounded(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * POST /v1/verifications for one number: {status, session: {phoneNumber, id, callTo}} on 201, else
 * {status (0: no HTTP answer), error: text}.
 */
export async function createSession(httpPort, phoneNumber, { ttlSeconds, timeoutMs = 10_000 }) {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/verifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phoneNumber, ttlSeconds }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await res.json().catch(() => undefined);
    if (res.status !== 201 || !body?.id || !body?.callTo) {
      return { status: res.status, error: `POST ${phoneNumber}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}` };
    }
    return { status: res.status, session: { phoneNumber, id: body.id, callTo: body.callTo } };
  } catch (err) {
    return { status: 0, error: `POST ${phoneNumber}: ${err.message}` };
  }
}

/**
 * POST /v1/verifications for every number; returns {sessions: [{phoneNumber, id, callTo}], errors:
 * [text]} (a failed create is reported, not retried: it would show up as a lost verification).
 */
export async function createSessions(httpPort, phoneNumbers, { concurrency, ttlSeconds }) {
  const errors = [];
  const results = await mapBounded(phoneNumbers, concurrency, async (phoneNumber) => {
    const r = await createSession(httpPort, phoneNumber, { ttlSeconds });
    if (r.error) errors.push(r.error);
    return r.session;
  });
  return { sessions: results.filter((s) => s !== undefined), errors };
}

/** GET /v1/verifications/:id for each id; returns a count per status ('error' for failed requests). */
export async function sessionStatuses(httpPort, ids, concurrency = 16) {
  const counts = {};
  await mapBounded(ids, concurrency, async (id) => {
    let status = 'error';
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/verifications/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(10_000) });
      if (res.ok) status = (await res.json()).status ?? 'error';
      else await res.arrayBuffer();
    } catch {
      /* counted as error */
    }
    counts[status] = (counts[status] ?? 0) + 1;
  });
  return counts;
}
