/** Small helpers shared by the benchmark scripts. */

/** `--name N` from the command line: a positive number, else `def`. */
export function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : def;
}

/** The q-quantile (0–1) of an ascending list, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

/**
 * A deterministic random integer in [0, n) per call (an LCG). Uses the high bits: an LCG modulo a
 * power of two repeats its low bits with a short period (`seed % 4` cycles through four values).
 */
export function seededInts(seed: number): (n: number) => number {
  let s = seed;
  return (n: number) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return Math.floor(s / 65536) % n;
  };
}
