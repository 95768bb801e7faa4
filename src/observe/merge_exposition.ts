/**
 * One exposition from several: the Prometheus text of every worker isolate of a server,
 * added up series by series, so that `/metrics` tells the totals of the whole server.
 *
 * @module
 */

import { formatValue } from "./exposition.ts";

interface MergedFamily {
  headers: string[];
  /** series (name and labels, as written) → sum of its values */
  series: Map<string, number>;
}

/**
 * Adds up `texts` (expositions as {@linkcode writeExposition} writes them): a series present
 * in several is written once with the sum of its values, families in the order first seen.
 * Sums are right for counters, histograms and the gauges of a server's parts (calls in
 * flight, open connections); figures of the process as a whole are for the caller to leave
 * out (`skip`) and give once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeExpositions } from "./merge_exposition.ts";
 *
 * const one = '# TYPE calls_total counter\ncalls_total{code="ok"} 2\n';
 * const two = '# TYPE calls_total counter\ncalls_total{code="ok"} 3\ncalls_total{code="-1"} 1\n';
 * assert.equal(
 *   mergeExpositions([one, two]),
 *   '# TYPE calls_total counter\ncalls_total{code="ok"} 5\ncalls_total{code="-1"} 1\n',
 * );
 * ```
 */
export function mergeExpositions(
  texts: readonly string[],
  skip: (family: string, text: number) => boolean = () => false,
): string {
  const families = new Map<string, MergedFamily>();
  texts.forEach((text, index) => {
    let family: MergedFamily | undefined;
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const header = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (header) {
        const name = header[2];
        if (skip(name, index)) {
          family = undefined;
          continue;
        }
        family = families.get(name);
        if (!family) families.set(name, family = { headers: [], series: new Map() });
        if (!family.headers.some((h) => h.startsWith(`# ${header[1]} `))) family.headers.push(line);
        continue;
      }
      if (line.startsWith("#") || !family) continue;
      // The value follows the last space; label values may hold spaces, never after it.
      const at = line.lastIndexOf(" ");
      const key = line.slice(0, at);
      const value = parseValue(line.slice(at + 1));
      family.series.set(key, (family.series.get(key) ?? 0) + value);
    }
  });
  const out: string[] = [];
  for (const { headers, series } of families.values()) {
    for (const header of headers) out.push(`${header}\n`);
    for (const [key, value] of series) out.push(`${key} ${formatValue(value)}\n`);
  }
  return out.join("");
}

/** A sample value as Prometheus spells it. */
function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

/** The sum of the samples of `family` (every label set) in one exposition. */
export function familyTotal(text: string, family: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${family}{`) || line.startsWith(`${family} `)) {
      total += parseValue(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

/**
 * The samples of `family` in one exposition added up by the value of `label` (series without
 * it are left out).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { labelTotals } from "./merge_exposition.ts";
 *
 * const text = 'open{transport="tcp"} 2\nopen{transport="http",x="1"} 1\nopen{transport="http",x="2"} 4\n';
 * assert.deepEqual([...labelTotals(text, "open", "transport")], [["tcp", 2], ["http", 5]]);
 * ```
 */
export function labelTotals(text: string, family: string, label: string): Map<string, number> {
  const totals = new Map<string, number>();
  const pattern = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${family}{`)) continue;
    const at = line.lastIndexOf(" ");
    const value = pattern.exec(line.slice(0, at))?.[1];
    if (value === undefined) continue;
    totals.set(value, (totals.get(value) ?? 0) + parseValue(line.slice(at + 1)));
  }
  return totals;
}
