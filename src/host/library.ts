/**
 * The host's copy of Switchboard as seen by components it loads through data: URLs:
 * whatever URL a component used to name Switchboard, it gets this copy's `implement`, `t`
 * and the rest.
 *
 * @module
 */

import * as library from "../../mod.ts";
import { publishLibrary, shimSpecifier } from "./shim.ts";

let shim: string | undefined;

/** Publishes this copy of the library; returns the data: URL of its re-exporting module. */
export function librarySpecifier(): string {
  if (shim) return shim;
  publishLibrary(library);
  shim = shimSpecifier(Object.keys(library));
  return shim;
}

/** The URL of this copy's `mod.ts` (imports of it resolve to the published library). */
export const OWN_MODULE: URL = new URL("../../mod.ts", import.meta.url);
