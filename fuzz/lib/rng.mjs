/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that a fuzz run is reproducible from its
 * seed: the same seed and options send the same messages in the same order.
 */
export function createRng(seed) {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  const rng = {
    /** A 32-bit unsigned integer. */
    u32: next,
    /** An integer in [0, n). */
    int: (n) => (n <= 0 ? 0 : Math.floor((next() / 4294967296) * n)),
    /** An integer in [lo, hi]. */
    range: (lo, hi) => lo + rng.int(hi - lo + 1),
    /** True with probability p. */
    chance: (p) => next() / 4294967296 < p,
    pick: (arr) => arr[rng.int(arr.length)],
    /** Mostly small numbers, sometimes large: sizes of inserts, repeats and segments. */
    size: (max) => Math.min(max, 1 + (rng.chance(0.8) ? rng.int(8) : rng.chance(0.8) ? rng.int(256) : rng.int(max))),
    bytes: (n) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
  return rng;
}
