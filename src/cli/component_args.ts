/**
 * The command-line grammar of components: `--component URL` followed by the options of
 * that component. Options given before the first `--component` are defaults for all.
 *
 * ```
 * --component ./calc.ts --component https://host/search.ts --isolate worker --allow-net=db:5432
 * ```
 *
 * @module
 */

import type { ComponentSpec } from "../host/placement.ts";
import type { Grant, WorkerPermissions } from "../host/grants/permissions.ts";
import type { LoaderMode } from "../host/load/loader.ts";

/** A mistake in the component options; the message says which and what is expected. */
export class ComponentArgsError extends Error {
  override name = "ComponentArgsError";
}

/** The components found and the arguments left for the command's own parser. */
export interface ComponentArgs {
  /** The components, in order. */
  specs: ComponentSpec[];
  /** Every argument that is not a component option, in order. */
  rest: string[];
}

/** Help text of the component options (for a command's `--help`). */
export const COMPONENT_OPTIONS_HELP =
  `  --component URL     a component module (file path, file: or https: URL, optionally
                      pinned with #sha256-<base64>); repeatable. The options below apply
                      to the --component they follow; before any, to all components
  --isolate MODE      inline (default), worker or process: run the component in a Web
                      Worker, or in a child process with a bounded heap, with only the
                      permissions granted below
  --max-memory MB     process components: heap limit (default 256); a component that
                      exceeds it ends its own process, which is restarted
  --allow-net[=LIST]  worker components: network access (e.g. --allow-net=db:5432)
  --allow-read[=LIST] worker components: file reads (e.g. --allow-read=/srv/data)
  --allow-write[=LIST], --allow-env[=LIST], --allow-sys[=LIST]
                      worker components: further grants (nothing is granted by default)
  --deadline MS       worker components: the longest a call may run (default 30000); a
                      worker stuck past it is replaced by a fresh one
  --load-timeout MS   how long a component may take to load (default 30000); one whose
                      top-level code never settles fails serve with its URL
  --loader MODE       auto (default), native (import()) or bundled (the compile-safe
                      loader that compiled binaries use)
  --allow-insecure-http
                      allow http: component URLs (https: only by default)`;

type Options = Omit<ComponentSpec, "url">;

const GRANTS = ["net", "read", "write", "env", "sys"] as const;

/** Takes the component options out of a command's arguments. */
export function parseComponentArgs(args: readonly string[]): ComponentArgs {
  const defaults: Options = {};
  const specs: ComponentSpec[] = [];
  const rest: string[] = [];
  const target = () => specs.at(-1) ?? defaults;
  const permissions = (o: Options): WorkerPermissions => o.permissions ??= {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    const inline = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) {
        throw new ComponentArgsError(`${flag} needs a value`);
      }
      i++;
      return next;
    };
    switch (flag) {
      case "--component":
        specs.push({ ...structuredClone(defaults), url: value() });
        break;
      case "--isolate": {
        const mode = value();
        if (mode !== "inline" && mode !== "worker" && mode !== "process") {
          throw new ComponentArgsError(
            `--isolate: expected inline, worker or process, got ${mode}`,
          );
        }
        target().isolate = mode;
        break;
      }
      case "--loader": {
        const mode = value();
        if (mode !== "auto" && mode !== "native" && mode !== "bundled") {
          throw new ComponentArgsError(`--loader: expected auto, native or bundled, got ${mode}`);
        }
        target().loader = mode as LoaderMode;
        break;
      }
      case "--deadline": {
        const ms = Number(value());
        if (!(Number.isInteger(ms) && ms > 0)) {
          throw new ComponentArgsError(`--deadline: expected a positive number of milliseconds`);
        }
        target().deadline = ms;
        break;
      }
      case "--load-timeout": {
        const ms = Number(value());
        if (!(Number.isInteger(ms) && ms > 0)) {
          throw new ComponentArgsError(
            `--load-timeout: expected a positive number of milliseconds`,
          );
        }
        target().loadTimeout = ms;
        break;
      }
      case "--max-memory": {
        const mb = Number(value());
        if (!(Number.isInteger(mb) && mb >= 16)) {
          throw new ComponentArgsError(`--max-memory: expected a number of MiB (at least 16)`);
        }
        target().maxMemoryMb = mb;
        break;
      }
      case "--allow-insecure-http":
        if (inline !== undefined) {
          throw new ComponentArgsError(`--allow-insecure-http takes no value`);
        }
        target().allowInsecureHttp = true;
        break;
      default: {
        const grant = /^--allow-([a-z]+)$/.exec(flag)?.[1];
        if (grant && (GRANTS as readonly string[]).includes(grant)) {
          const list: Grant = inline === undefined
            ? true
            : inline.split(",").map((s) => s.trim()).filter(Boolean);
          permissions(target())[grant as typeof GRANTS[number]] = list;
        } else {
          rest.push(arg);
        }
      }
    }
  }
  for (const spec of specs) {
    if ((spec.isolate ?? "inline") === "inline") {
      const granted = Object.keys(spec.permissions ?? {});
      if (granted.length) {
        throw new ComponentArgsError(
          `--allow-${granted[0]} applies to worker components only; add --isolate worker ` +
            `after --component ${spec.url} (inline components share the server's permissions)`,
        );
      }
      if (spec.maxMemoryMb !== undefined) {
        throw new ComponentArgsError(
          `--max-memory applies to process components only; add --isolate process after ` +
            `--component ${spec.url}`,
        );
      }
      if (spec.deadline !== undefined) {
        throw new ComponentArgsError(
          `--deadline applies to worker components only; add --isolate worker after ` +
            `--component ${spec.url}`,
        );
      }
    }
  }
  for (const spec of specs) {
    if (spec.isolate === "worker" && spec.maxMemoryMb !== undefined) {
      throw new ComponentArgsError(
        `--max-memory: a Web Worker's heap cannot be bounded (its exhaustion ends the whole ` +
          `server); use --isolate process for --component ${spec.url}`,
      );
    }
  }
  if (specs.length === 0 && Object.keys(defaults).length) {
    throw new ComponentArgsError(`component options given without any --component`);
  }
  return { specs, rest };
}
