// The paced stream of legitimate verifications that runs through a flood: every 1/rate s a session is
// created through the HTTP API (as the app would) and the bench's UAC calls the DID it was given from
// that number. Its INVITE→webhook latency is what a real user waits while the trunk is flooded.
import { createSession } from './api-client.mjs';
import { percentileSorted } from './percentile.mjs';
import { nowMs } from './sip-uac.mjs';

/** Sessions live long enough for the longest drain the bench waits (a lost one must not expire first). */
const TTL_SECONDS = 300;

/**
 * Starts the stream against `target` ({apiPort, sipHost, sipPort}); `cliOf(i)` gives the i-th caller
 * (distinct across a run, so no session supersedes another). stop() ends the creating and resolves
 * once every started verification has placed its call.
 */
export function startLegitStream({ target, uac, rate, cliOf, firstIndex = 0 }) {
  const entries = [];
  const inflight = new Set();
  let stopped = false;
  let timer;
  const t0 = performance.now();
  const one = async (cli) => {
    const e = { cli, createdAt: nowMs() };
    entries.push(e);
    const r = await createSession(target.apiPort, cli, { ttlSeconds: TTL_SECONDS });
    e.createMs = nowMs() - e.createdAt;
    e.createStatus = r.status;
    if (!r.session) {
      e.createError = r.error;
      return;
    }
    e.id = r.session.id;
    const c = await uac.call({ cli, did: r.session.callTo, targetHost: target.sipHost, targetPort: target.sipPort });
    Object.assign(e, { callStatus: c.status, inviteSentAt: c.sentAt, finalAt: c.finalAt, retransmits: c.retransmits });
  };
  // Paced against the start time, so a slow create does not slow the stream down.
  const tick = (k) => {
    if (stopped) return;
    const p = one(cliOf(firstIndex + k)).finally(() => inflight.delete(p));
    inflight.add(p);
    timer = setTimeout(() => tick(k + 1), Math.max(0, t0 + ((k + 1) * 1000) / rate - performance.now()));
  };
  if (rate > 0) tick(0);
  return {
    entries,
    get started() {
      return entries.length;
    },
    /** Verifications still without their webhook or a failed step: what the drain waits for. */
    outstanding: (receiver) => inflight.size + entries.filter((e) => e.id && e.callStatus >= 300 && !receiver.verified.has(e.id)).length,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...inflight]);
    },
  };
}

/**
 * What the stream's users saw: sessions created (and why not), calls answered, verified webhooks,
 * INVITE→webhook at the receiver (from the UAC's INVITE; a call without its webhook counts as
 * infinitely late, so more than 1 % lost makes the p99 infinite), and the same from the daemon's own
 * read of the INVITE (`callReceivedAt` in the webhook).
 */
export function legitSummary(entries, receiver) {
  const created = entries.filter((e) => e.id);
  const createErrors = {};
  for (const e of entries) if (!e.id) createErrors[e.createStatus] = (createErrors[e.createStatus] ?? 0) + 1;
  const called = created.filter((e) => e.callStatus >= 300);
  const lat = [];
  const daemonLat = [];
  let verified = 0;
  for (const e of called) {
    const w = receiver.verified.get(e.id);
    if (!w) {
      lat.push(Infinity);
      continue;
    }
    verified++;
    lat.push(w.at - e.inviteSentAt);
    if (w.callReceivedAt !== undefined) daemonLat.push(w.at - w.callReceivedAt);
  }
  lat.sort((a, b) => a - b);
  daemonLat.sort((a, b) => a - b);
  const createMs = entries.map((e) => e.createMs).filter(Number.isFinite).sort((a, b) => a - b);
  const q = (a) => ({ n: a.length, p50: percentileSorted(a, 0.5), p99: percentileSorted(a, 0.99), max: a.length ? a[a.length - 1] : NaN });
  return {
    started: entries.length,
    created: created.length,
    createErrors,
    createMs: q(createMs),
    callsFailed: created.length - called.length,
    retransmits: created.reduce((a, e) => a + (e.retransmits ?? 0), 0),
    verified,
    lost: called.length - verified,
    latency: q(lat),
    daemonLatency: q(daemonLat),
  };
}
