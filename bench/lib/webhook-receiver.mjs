// The e2e bench's webhook receiver: a plain node:http server on loopback, standing in for the
// business app. It notes when each event arrived (before reading the body, so JSON parsing is not
// charged to ringproof) and checks the Standard Webhooks signature of a sample of them with the
// reference library, as a receiver would.
import http from 'node:http';

/** Epoch ms with sub-ms resolution, on the same footing as the daemon's callReceivedAt (timeOrigin + now). */
const nowMs = () => performance.timeOrigin + performance.now();

async function signatureChecker(secret) {
  try {
    const { Webhook } = await import('standardwebhooks');
    const wh = new Webhook(secret);
    return (body, headers) => {
      try {
        wh.verify(body, headers);
        return true;
      } catch {
        return false;
      }
    };
  } catch {
    return undefined; // the devDependency is not installed: signatures go unchecked, and the report says so
  }
}

/**
 * Starts the receiver on 127.0.0.1:`port` (0 = any). `checkEvery`: verify one signature in that
 * many events (the first always). Answers 204 at once; anything else than a JSON event is counted.
 */
export async function startWebhookReceiver({ secret, checkEvery = 20, port = 0 }) {
  const check = await signatureChecker(secret);
  /** verification id → {at, callReceivedAt, status} of its first verification.verified event */
  const verified = new Map();
  const stats = { requests: 0, verifiedEvents: 0, expiredEvents: 0, otherEvents: 0, duplicates: 0, bad: 0, sigChecked: 0, sigFailed: 0 };
  const seenIds = new Set();
  const server = http.createServer((req, res) => {
    const at = nowMs();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      stats.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      let event;
      try {
        event = JSON.parse(body);
      } catch {
        stats.bad++;
        return;
      }
      const eventId = req.headers['webhook-id'];
      if (check && (stats.requests - 1) % checkEvery === 0) {
        stats.sigChecked++;
        if (!check(body, req.headers)) stats.sigFailed++;
      }
      // Retries carry the same webhook-id: a receiver dedupes on it, and so do we.
      if (eventId && seenIds.has(eventId)) {
        stats.duplicates++;
        return;
      }
      if (eventId) seenIds.add(eventId);
      const v = event?.data?.verification;
      if (event?.type === 'verification.verified' && v?.id) {
        stats.verifiedEvents++;
        verified.set(v.id, { at, callReceivedAt: typeof v.callReceivedAt === 'number' ? v.callReceivedAt : undefined, status: v.status });
      } else if (event?.type === 'verification.expired') stats.expiredEvents++;
      else stats.otherEvents++;
    });
  });
  // Keep connections open longer than the daemon's pool may idle, so it is not made to reconnect.
  server.keepAliveTimeout = 65_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/webhooks`,
    signaturesChecked: check !== undefined,
    stats,
    verified,
    /** How many of `ids` have their verified webhook. */
    countVerified: (ids) => ids.reduce((n, id) => n + (verified.has(id) ? 1 : 0), 0),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
