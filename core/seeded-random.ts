/**
 * A seeded pseudo-random generator, for everything that must decide the same way for the same seed: the
 * synthetic workload, the fault schedules of the drills, the local runtime's injected faults.
 */

/** Mulberry32: a tiny, fast, well-distributed 32-bit PRNG; deterministic across platforms. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
