/**
 * Stream params (`params: { lines: t.stream(t.string) }`): a caller sends a sequence to
 * the handler. The handler reads each such param as an `RpcStream`, its items checked
 * against the declared type; once the call is over, what it did not read is cancelled.
 *
 * @module
 */

import type { Fields, RpcStream } from "../idl/types.ts";
import { itemsOf } from "../idl/kinds.ts";
import { compile } from "../idl/validate.ts";
import { typedStream } from "./typed_stream.ts";

/** The names of a method's `t.stream` params, or undefined when it has none. */
export function streamParamNames(fields: Fields): readonly string[] | undefined {
  const names = Object.keys(fields).filter((name) => fields[name].kind === "stream");
  return names.length === 0 ? undefined : names;
}

/** `params` (already checked) with each stream param read through its item check. */
export function typedStreamParams(
  method: string,
  fields: Fields,
  names: readonly string[],
  params: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...params };
  for (const name of names) {
    const source = params[name];
    if (source === undefined) continue;
    out[name] = typedStream(() => Promise.resolve(source), {
      method: `${method} (param ${name})`,
      check: compile(itemsOf(fields[name])),
      badItem: "InvalidParams",
    });
  }
  return out;
}

/** Cancels what a finished call left unread of its stream params. */
export function releaseStreamParams(
  names: readonly string[],
  params: Record<string, unknown>,
): void {
  for (const name of names) void (params[name] as RpcStream<unknown> | undefined)?.cancel();
}
