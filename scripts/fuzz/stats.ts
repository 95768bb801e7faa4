/**
 * What a fuzz run counts per protocol (inputs, answers by error class, known-call
 * latencies, crashes, hangs, unexpected answers) and where it saves the inputs that
 * caused trouble.
 *
 * @module
 */

/** The report of one protocol. */
export interface ProtocolReport {
  protocol: string;
  inputs: number;
  seconds: number;
  inputsPerSecond: number;
  classes: Record<string, number>;
  normalCalls: { count: number; failed: number; p50: number; p99: number; max: number };
  crashes: number;
  hangs: number;
  unexpected: number;
  rssKiB: { before?: number; after?: number };
  artifacts: string[];
  skipped?: string;
}

const MAX_CLASSES = 60;

/** Counters for one protocol. */
export class Stats {
  inputs = 0;
  readonly classes = new Map<string, number>();
  readonly latencies: number[] = [];
  normalFailed = 0;
  crashes = 0;
  hangs = 0;
  unexpected = 0;
  readonly artifacts: string[] = [];
  readonly started = performance.now();

  constructor(readonly protocol: string) {}

  /** Counts one answer (or fate) of an input under a class name. */
  count(name: string, n = 1): void {
    // Echo.fail raises whatever name it is given: one class for all of those.
    if (name !== "ok" && !/^[A-Z][A-Za-z]*$|[ (]/.test(name)) {
      name = "application error (other name)";
    }
    const key = this.classes.has(name) || this.classes.size < MAX_CLASSES ? name : "(other)";
    this.classes.set(key, (this.classes.get(key) ?? 0) + n);
  }

  /** The report, with memory figures the caller read. */
  report(rss: { before?: number; after?: number }, skipped?: string): ProtocolReport {
    const seconds = (performance.now() - this.started) / 1000;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const q = (p: number) =>
      sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]) : 0;
    const report: ProtocolReport = {
      protocol: this.protocol,
      inputs: this.inputs,
      seconds: round(seconds),
      inputsPerSecond: Math.round(this.inputs / Math.max(seconds, 1e-3)),
      classes: Object.fromEntries([...this.classes].sort((a, b) => b[1] - a[1])),
      normalCalls: {
        count: sorted.length + this.normalFailed,
        failed: this.normalFailed,
        p50: q(0.5),
        p99: q(0.99),
        max: sorted.length ? round(sorted[sorted.length - 1]) : 0,
      },
      crashes: this.crashes,
      hangs: this.hangs,
      unexpected: this.unexpected,
      rssKiB: rss,
      artifacts: this.artifacts,
    };
    if (skipped) report.skipped = skipped;
    return report;
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** One input as saved for reproduction. */
export interface SavedInput {
  /** Where it was sent: an HTTP path, `tcp`, or an AMQP routing key. */
  target: string;
  /** Content type (HTTP) or a note. */
  note?: string;
  bytes: Uint8Array;
}

/** Saves inputs under `dir/<protocol>-<kind>-<n>/` (files `input-NNNN.bin` + `meta.json`). */
export async function saveArtifact(
  dir: string,
  stats: Stats,
  kind: string,
  inputs: SavedInput[],
  detail: Record<string, unknown>,
): Promise<void> {
  if (stats.artifacts.length >= 20) return; // enough to reproduce; keep the disk tidy
  const path = `${dir}/${stats.protocol}-${kind}-${stats.artifacts.length + 1}`;
  await Deno.mkdir(path, { recursive: true });
  const files = [];
  for (const [i, input] of inputs.entries()) {
    const name = `input-${String(i).padStart(4, "0")}.bin`;
    await Deno.writeFile(`${path}/${name}`, input.bytes);
    files.push({ file: name, target: input.target, note: input.note, bytes: input.bytes.length });
  }
  await Deno.writeTextFile(
    `${path}/meta.json`,
    JSON.stringify({ protocol: stats.protocol, kind, ...detail, inputs: files }, null, 2) + "\n",
  );
  stats.artifacts.push(path);
}
