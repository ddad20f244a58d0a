// Periodic readings during a long step (backlog, memory): one at a time, never overlapping, each with
// its time since the sampler started, so a slow daemon stretches the interval instead of piling up scrapes.

/**
 * Calls `read()` now and then every `intervalMs`; stop() resolves with [{t (s), ...reading}]. A read
 * that throws is left out and counted in `errors` ({count, first}), so a report can say so.
 */
export function startSampler(read, intervalMs) {
  const samples = [];
  const errors = { count: 0, first: undefined };
  const t0 = performance.now();
  let stopped = false;
  let timer;
  let current = Promise.resolve();
  const loop = async () => {
    if (stopped) return;
    const t = (performance.now() - t0) / 1000;
    // A read that hangs (a stalled socket) must not end the series: it counts as failed after 10 intervals.
    let cap;
    const capped = Promise.race([
      Promise.resolve().then(read),
      new Promise((_, reject) => { cap = setTimeout(() => reject(new Error(`reading took over ${(10 * intervalMs) / 1000} s`)), 10 * intervalMs); }),
    ]).finally(() => clearTimeout(cap));
    current = capped.then(
      (r) => { samples.push({ t, ...r }); },
      (err) => {
        errors.count++;
        errors.first ??= err?.stack ?? String(err);
      },
    );
    await current;
    if (!stopped) timer = setTimeout(loop, Math.max(0, intervalMs - ((performance.now() - t0) - t * 1000)));
  };
  loop();
  return {
    samples,
    errors,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
      return samples;
    },
  };
}
