/**
 * Ratios between two servers' cells.
 *
 * @module
 */

import type { Measured } from "./cells.ts";
import { median } from "./median.ts";

/** `a` ÷ `b` in best calls/s. */
function ratio(a: Measured | undefined, b: Measured | undefined): number | undefined {
  const x = a?.result?.cps, y = b?.result?.cps;
  return x && y ? x / y : undefined;
}

/** `a` ÷ `b` in calls/s: the median of the rounds' ratios, or of the bests without rounds. */
export function compared(a: Measured | undefined, b: Measured | undefined): number | undefined {
  return pairedRatio(a, b) ?? ratio(a, b);
}

/**
 * The median over rounds of `a`'s figure ÷ `b`'s in the same round. Two servers' turns in
 * one round are seconds apart, so outside load moves both alike; on a shared machine this
 * is far steadier than a ratio of two bests (which may come from different rounds).
 */
export function pairedRatio(
  a: Measured | undefined,
  b: Measured | undefined,
  figure: "cps" | "cpuUs" = "cps",
): number | undefined {
  const ratios = roundRatios(a, b, figure);
  return ratios.length === 0 ? undefined : median(ratios);
}

/** `a`'s figure ÷ `b`'s, round by round (rounds where either failed are left out). */
export function roundRatios(
  a: Measured | undefined,
  b: Measured | undefined,
  figure: "cps" | "cpuUs" = "cps",
): number[] {
  const ratios: number[] = [];
  const n = Math.min(a?.rounds?.length ?? 0, b?.rounds?.length ?? 0);
  for (let i = 0; i < n; i++) {
    const x = a!.rounds![i]?.[figure], y = b!.rounds![i]?.[figure];
    if (x && y && Number.isFinite(x) && Number.isFinite(y)) ratios.push(x / y);
  }
  return ratios;
}
