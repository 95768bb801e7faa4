/**
 * What every part of the binary smoke test shares: the command under test, one `ok` /
 * `not ok` line per check, and `call` through the command's own client.
 *
 * @module
 */

import { run } from "./processes.ts";

/** The checks' toolkit. */
export interface SmokeKit {
  /** The command under test (`["dist/switchboard"]`, `["deno", "run", "-A", "main.ts"]`). */
  program: string[];
  /** Runs one check and prints its line; resolves with whether it passed. */
  check(name: string, body: () => Promise<string | void>): Promise<boolean>;
  /** `PROGRAM call ARGS…`: the parsed JSON result, or throws with what it printed. */
  call(args: string[]): Promise<unknown>;
  /** Throws unless both are the same JSON. */
  expectEqual(what: string, actual: unknown, expected: unknown): void;
  /** Checks passed and failed so far. */
  readonly counts: { passed: number; failed: number };
}

/** A toolkit for `program`. */
export function smokeKit(program: string[]): SmokeKit {
  const counts = { passed: 0, failed: 0 };
  return {
    program,
    counts,
    async check(name, body) {
      try {
        const note = await body();
        counts.passed++;
        console.log(`ok - ${name}${note ? ` -- ${note}` : ""}`);
        return true;
      } catch (error) {
        counts.failed++;
        console.log(`not ok - ${name}`);
        const text = error instanceof Error ? error.message : String(error);
        console.log(text.split("\n").map((l) => `  # ${l}`).join("\n"));
        return false;
      }
    },
    async call(args) {
      const out = await run(program, ["call", "--timeout", "10000", ...args]);
      if (out.code !== 0) {
        throw new Error(`call ${args.join(" ")}: exit ${out.code}\n${out.stderr}${out.stdout}`);
      }
      return JSON.parse(out.stdout);
    },
    expectEqual(what, actual, expected) {
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        throw new Error(
          `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`,
        );
      }
    },
  };
}
