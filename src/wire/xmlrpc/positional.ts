/**
 * XML-RPC params are positional. Both Switchboard ends agree on that, so third-party
 * servers (Python's `SimpleXMLRPCServer`) and clients work unchanged:
 *
 * - The client sends a typed proxy's named params by position, in the order the IDL
 *   declares them; an absent optional param in the middle goes as `<nil/>`, trailing
 *   absent ones are left out. Each param is written by its declared type.
 * - The server takes positional params as they come (one struct is one struct, never
 *   params by name) and reads `<nil/>` at an optional (not nullable) position as absent.
 *
 * @module
 */

import type { Fields } from "../../core/idl/types.ts";

import { isNamed } from "../../core/idl/positional.ts";

export { isNamed, namesOnlyDeclared, toPositional } from "../../core/idl/positional.ts";

/** Server side: `<nil/>` at an optional (not nullable) position is an absent param. */
export function fromPositional(params: unknown[], declared: Fields): unknown[] {
  const types = Object.values(declared);
  let out: unknown[] | undefined;
  for (let i = 0; i < params.length && i < types.length; i++) {
    const type = types[i];
    if (params[i] === null && type.kind === "optional") {
      const inner = type.inner;
      if (inner.kind !== "nullable" && inner.kind !== "any") {
        (out ??= params.slice())[i] = undefined;
      }
    }
  }
  return out ?? params;
}

/**
 * Server side: the params a call's positional list stands for. One struct is params by name
 * only when a Switchboard client says so (`namedParams`, read only for a lone struct: over
 * HTTP it is a header lookup); else the list goes by position, read by the declaration when
 * there is one. A multicall's entries are read the same way.
 */
export function callParams(
  list: unknown[],
  declared: Fields | undefined,
  options: { readonly namedParams?: boolean },
): unknown {
  if (list.length === 1 && isNamed(list[0]) && options.namedParams) return list[0];
  return declared ? fromPositional(list, declared) : list;
}
