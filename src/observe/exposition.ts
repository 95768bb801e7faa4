/**
 * A writer of the Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE`
 * lines, then the samples of counters, gauges and histograms (cumulative `_bucket{le}`
 * series ending in `+Inf`, `_sum`, `_count`). Small and runtime-free; it exists so that
 * scraping needs no metrics library in the module graph.
 *
 * @module
 */

/** Labels of one sample. */
export type Labels = Record<string, string>;

/** One sample of a counter or gauge. */
export interface Sample {
  /** Its labels. */
  labels: Labels;
  /** Its value. */
  value: number;
}

/** One labelled histogram: per-bucket counts (not cumulative) and the sum of observations. */
export interface HistogramSample {
  /** Its labels (never `le`: the writer adds it). */
  labels: Labels;
  /** Upper bounds, strictly increasing, without `+Inf`. */
  bounds: readonly number[];
  /** Observations per bucket; one more than `bounds`, the last being above every bound. */
  counts: ArrayLike<number>;
  /** Sum of the observed values. */
  sum: number;
}

/** A metric family: every sample of one metric name. */
export type Family =
  | { name: string; help: string; type: "counter" | "gauge"; samples: Sample[] }
  | { name: string; help: string; type: "histogram"; samples: HistogramSample[] };

/** The `Content-Type` of the text exposition. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a valid metric name. */
export function isMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Whether `name` may be used as a label name (`__`-prefixed names are reserved). */
export function isLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith("__");
}

/**
 * The text exposition of `families`; `extra` labels are added to every sample that does
 * not have them already. Throws `TypeError` on an invalid name or a malformed histogram:
 * a scrape that Prometheus would reject as a whole should fail loudly here instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeExposition } from "./exposition.ts";
 *
 * const text = writeExposition([{
 *   name: "jobs_total",
 *   help: "Jobs done",
 *   type: "counter",
 *   samples: [{ labels: { queue: 'a"b' }, value: 2 }],
 * }]);
 * assert.equal(text, '# HELP jobs_total Jobs done\n# TYPE jobs_total counter\njobs_total{queue="a\\"b"} 2\n');
 * ```
 */
export function writeExposition(families: readonly Family[], extra: Labels = {}): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    const { name } = family;
    if (!isMetricName(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
    if (seen.has(name)) throw new TypeError(`metric ${name} written twice`);
    seen.add(name);
    // An empty HELP is left out: "# HELP name " trips some parsers.
    if (family.help) out.push(`# HELP ${name} ${escapeHelp(family.help)}\n`);
    out.push(`# TYPE ${name} ${family.type}\n`);
    if (family.type === "histogram") {
      for (const h of family.samples) writeHistogram(out, name, h, extra);
    } else {
      for (const s of family.samples) out.push(line(name, s.labels, extra, s.value));
    }
  }
  return out.join("");
}

function writeHistogram(out: string[], name: string, h: HistogramSample, extra: Labels): void {
  if (h.counts.length !== h.bounds.length + 1) {
    throw new TypeError(`${name}: ${h.bounds.length} bounds need ${h.bounds.length + 1} counts`);
  }
  if ("le" in h.labels) throw new TypeError(`${name}: "le" is the writer's label`);
  let cumulative = 0;
  for (let i = 0; i <= h.bounds.length; i++) {
    const bound = i < h.bounds.length ? h.bounds[i] : Infinity;
    if (i > 0 && !(bound > h.bounds[i - 1])) {
      throw new TypeError(`${name}: bucket bounds must be strictly increasing`);
    }
    cumulative += h.counts[i];
    const labels = { ...h.labels, le: formatValue(bound) };
    out.push(line(`${name}_bucket`, labels, extra, cumulative));
  }
  out.push(line(`${name}_sum`, h.labels, extra, h.sum));
  out.push(line(`${name}_count`, h.labels, extra, cumulative));
}

function line(name: string, labels: Labels, extra: Labels, value: number): string {
  const parts: string[] = [];
  const label = (key: string, v: string) => {
    if (!isLabelName(key)) {
      throw new TypeError(`${name}: invalid label name ${JSON.stringify(key)}`);
    }
    parts.push(`${key}="${escapeLabelValue(v)}"`);
  };
  for (const key in labels) label(key, labels[key]);
  for (const key in extra) if (!(key in labels)) label(key, extra[key]);
  const set = parts.length ? `{${parts.join(",")}}` : "";
  return `${name}${set} ${formatValue(value)}\n`;
}

/** A label value with `\`, `"` and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Help text with `\` and newline escaped (quotes stay as they are). */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value or `le` bound as Prometheus spells it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}
