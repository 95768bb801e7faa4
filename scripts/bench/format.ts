/**
 * How the benchmark's figures are printed.
 *
 * @module
 */

/** Calls per second and the like: a rounded integer with thousands separators. */
export function fmtInt(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "–" : Math.round(n).toLocaleString("en-US");
}

/** Milliseconds: two decimals below 10, one above. */
export function fmtMs(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

/** Microseconds, one decimal. */
export function fmtUs(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(1);
}

/** KiB as MiB, one decimal. */
export function fmtMiB(kib: number | undefined): string {
  return kib === undefined || !Number.isFinite(kib) ? "–" : (kib / 1024).toFixed(1);
}

/** A rate in thousands or millions (`53.2k`, `2.03M`). */
export function fmtRate(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** A fraction as a percentage. */
export function fmtPct(r: number | undefined): string {
  return r === undefined || !Number.isFinite(r) ? "–" : `${(r * 100).toFixed(0)}%`;
}
