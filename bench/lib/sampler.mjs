// Periodic readings during a long step (backlog, memory): one at a time, never overlapping, each with
// its time since the sampler started, so a slow daemon stretches the interval instead of piling up scrapes.

/** Calls `read()` now and then every `intervalMs`; stop() resolves with [{t (s), ...reading}]. */
export function startSampler(read, intervalMs) {
  const samples = [];
  const t0 = performance.now();
  let stopped = false;
  let timer;
  let current = Promise.resolve();
  const loop = async () => {
    if (stopped) return;
    const t = (performance.now() - t0) / 1000;
    current = Promise.resolve().then(read).then((r) => { samples.push({ t, ...r }); }, () => {});
    await current;
    if (!stopped) timer = setTimeout(loop, Math.max(0, intervalMs - ((performance.now() - t0) - t * 1000)));
  };
  loop();
  return {
    samples,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await current;
      return samples;
    },
  };
}
