/**
 * The flags of `deno task bench` (see main.ts's module doc for what each does).
 *
 * @module
 */

/** A part of the benchmark that `--only` can pick. */
export type Suite =
  | "http"
  | "xmlrpc"
  | "tcp"
  | "workers"
  | "idle"
  | "observe"
  | "size"
  | "coldstart"
  | "streams";

/** Every suite, in the order they run. */
export const SUITES: Suite[] = [
  "http",
  "xmlrpc",
  "tcp",
  "workers",
  "idle",
  "observe",
  "size",
  "coldstart",
  "streams",
];

/** What one run measures, and how. */
export interface Options {
  only: Set<Suite>;
  warmupMs: number;
  /** Measured per cell, split evenly over the rounds. */
  durationMs: number;
  rounds: number;
  /** Servers on CPU 0, load generators on CPU 1. */
  pin: boolean;
  idleConnections: number;
  /** Another checkout of Switchboard to run side by side (an A/B of two versions). */
  baseline?: string;
  /** Leave out the peers and ceilings (with --baseline: just the two versions). */
  switchboardOnly: boolean;
  /** Runs per cold-start figure. */
  coldRuns: number;
  /** Only the cells of docs/performance.md (add; JSON/XML 32 callers; TCP 64 and 512 in flight). */
  quick: boolean;
  /** Whether to write docs/performance.md (when its cells were all run). */
  writeDoc: boolean;
  /** The stream suite's slow reader: how long it reads, ms (the figure is 60 s). */
  slowReaderMs: number;
  /** Idle streams the stream suite opens on one connection. */
  idleStreams: number;
  /** Cancels the stream suite times. */
  cancels: number;
}

/** Parses the command line (`--flag value` or `--flag=value`). */
export function parseOptions(args: string[]): Options {
  const options: Options = {
    only: new Set(SUITES),
    warmupMs: 1000,
    durationMs: 16_000,
    rounds: 4,
    pin: true,
    idleConnections: 1000,
    switchboardOnly: false,
    coldRuns: 11,
    quick: false,
    writeDoc: true,
    slowReaderMs: 15_000,
    idleStreams: 10_000,
    cancels: 1000,
  };
  let onlyGiven = false;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    switch (flag) {
      case "--only": {
        const wanted = value().split(",").map((s) => s.trim()) as Suite[];
        for (const s of wanted) {
          if (!SUITES.includes(s)) throw new Error(`--only: unknown suite ${s} (${SUITES})`);
        }
        options.only = new Set(wanted);
        onlyGiven = true;
        break;
      }
      case "--warmup":
        options.warmupMs = Number(value());
        break;
      case "--duration":
        options.durationMs = Number(value());
        break;
      case "--rounds":
        options.rounds = Math.max(1, Number(value()));
        break;
      case "--no-pin":
        options.pin = false;
        break;
      case "--idle":
        options.idleConnections = Number(value());
        break;
      case "--cold-runs":
        options.coldRuns = Math.max(1, Number(value()));
        break;
      case "--baseline":
        options.baseline = value().replace(/\/$/, "");
        break;
      case "--switchboard-only":
        options.switchboardOnly = true;
        break;
      case "--quick":
        options.quick = true;
        break;
      case "--workers-only":
        options.only = new Set(["workers"]);
        onlyGiven = true;
        break;
      case "--streams-only":
        options.only = new Set(["streams"]);
        onlyGiven = true;
        break;
      case "--slow-reader":
        options.slowReaderMs = Number(value());
        break;
      case "--idle-streams":
        options.idleStreams = Math.max(1, Number(value()));
        break;
      case "--cancels":
        options.cancels = Math.max(1, Number(value()));
        break;
      case "--no-doc":
        options.writeDoc = false;
        break;
      default:
        throw new Error(`unknown flag ${args[i]}`);
    }
  }
  if (options.quick && !onlyGiven) options.only = new Set(["http", "xmlrpc", "tcp"]);
  return options;
}
