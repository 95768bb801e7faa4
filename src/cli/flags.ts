/**
 * Strict option parsing for the CLI: the part of `node:util`'s `parseArgs` the commands use
 * (long and short flags, `--flag=value`, string and boolean flags, repeatable ones, defaults,
 * `--` ends the flags), with its error messages. Importing `node:util` makes Deno load its
 * Node layer, a large part of a cold `switchboard call`'s start.
 *
 * @module
 */

/** One flag: `--name` (and `-x` with `short`). */
export interface FlagSpec {
  /** A string takes a value (`--name v` or `--name=v`); a boolean takes none. */
  readonly type: "string" | "boolean";
  /** A one-letter alias. */
  readonly short?: string;
  /** Whether the flag may be given more than once (its values come as an array). */
  readonly multiple?: boolean;
  /** The value when the flag is absent. */
  readonly default?: string | boolean | readonly string[] | readonly boolean[];
}

type ValueOf<S extends FlagSpec> = S["type"] extends "string"
  ? S["multiple"] extends true ? string[] : string
  : S["multiple"] extends true ? boolean[]
  : boolean;

/** What {@linkcode parseFlags} found. */
export interface ParsedFlags<O extends Record<string, FlagSpec>> {
  /** Each flag's value; absent flags without a default are undefined. */
  values: {
    [K in keyof O]: O[K] extends { default: unknown } ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
  };
  /** The arguments that are not flags, in order. */
  positionals: string[];
}

/** A flag the spec does not allow; the message is one sentence. */
export class FlagError extends Error {
  override name = "FlagError";
}

/**
 * Parses `args` against `options`, strictly: an unknown flag, a missing value or a value
 * given to a boolean is a {@linkcode FlagError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlags } from "./flags.ts";
 *
 * const options = {
 *   port: { type: "string", default: "8080" },
 *   verbose: { type: "boolean", short: "v" },
 * } as const;
 * const { values, positionals } = parseFlags(["serve", "-v", "--port=9"], options);
 * assert.deepEqual(values, { port: "9", verbose: true });
 * assert.deepEqual(positionals, ["serve"]);
 * assert.throws(() => parseFlags(["--bogus"], options), /unknown option --bogus/);
 * ```
 */
export function parseFlags<O extends Record<string, FlagSpec>>(
  args: readonly string[],
  options: O,
): ParsedFlags<O> {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.short) byShort.set(spec.short, name);
  }
  const spell = (name: string) => {
    const short = options[name].short;
    const value = options[name].type === "string" ? " <value>" : "";
    return `${short ? `-${short}, ` : ""}--${name}${value}`;
  };
  const store = (name: string, value: string | boolean) => {
    if (!options[name].multiple) values[name] = value;
    else ((values[name] ??= []) as unknown[]).push(value);
  };
  // A string flag takes the next argument, unless that looks like a flag (as node:util).
  const takeValue = (name: string, i: number): string => {
    const next = args[i + 1];
    if (next === undefined) throw new FlagError(`Option '${spell(name)}' argument missing`);
    if (next.startsWith("-")) throw new FlagError(`Option '${spell(name)}' argument is ambiguous`);
    return next;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!Object.hasOwn(options, name)) throw new FlagError(`unknown option --${name}`);
      if (options[name].type === "boolean") {
        if (eq >= 0) throw new FlagError(`Option '${spell(name)}' does not take an argument`);
        store(name, true);
      } else if (eq >= 0) {
        store(name, arg.slice(eq + 1));
      } else {
        store(name, takeValue(name, i++));
      }
    } else if (arg.startsWith("-") && arg.length > 1) {
      // -abc: booleans grouped; a string flag takes the rest of the group (or the next arg).
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]);
        if (name === undefined) throw new FlagError(`unknown option -${arg[j]}`);
        if (options[name].type === "boolean") {
          store(name, true);
          continue;
        }
        store(name, j + 1 < arg.length ? arg.slice(j + 1) : takeValue(name, i++));
        break;
      }
    } else {
      positionals.push(arg);
    }
  }
  for (const [name, spec] of Object.entries(options)) {
    if (values[name] === undefined && spec.default !== undefined) {
      values[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    }
  }
  return { values: values as ParsedFlags<O>["values"], positionals };
}
