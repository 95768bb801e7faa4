/**
 * The host's copy of Switchboard as seen by components it loads through data: URLs:
 * whatever URL a component used to name Switchboard (or one of its entry points), it gets
 * this copy's `implement`, `t` and the rest.
 *
 * The library is handed down from the top: the `./deploy` entry point (which the CLI's
 * `serve` and `deploy` load) provides every entry point's exports, so that nothing here
 * imports an entry point, and none of them imports this loader back.
 *
 * @module
 */

import type { LibraryEntry } from "../../entries.ts";
import { publishLibrary, shimSpecifier } from "./shim.ts";
import { ComponentError } from "./specifier.ts";

let provided: Readonly<Record<LibraryEntry, object>> | undefined;
let providedBy: string | undefined;
let shim: string | undefined;

/**
 * Hands the loader every entry point's exports: what a loaded component may import.
 * `module`: the URL of the module that provides them, for other isolates of this program
 * (`serve --workers`) to import and so provide their own copy.
 */
export function provideLibrary(
  entries: Readonly<Record<LibraryEntry, object>>,
  module?: string,
): void {
  provided = entries;
  providedBy = module;
  shim = undefined;
}

/** The URL of the module that provided the library here, if it said. */
export function libraryModule(): string | undefined {
  return providedBy;
}

/** Publishes this copy of the library; returns the data: URL of its re-exporting module. */
export function librarySpecifier(): string {
  if (shim) return shim;
  if (!provided) {
    throw new ComponentError(
      `this program did not provide Switchboard's library to the components it loads: ` +
        `import "@switchboard/rpc/deploy" (its loadComponent, loadComponents, WorkerComponent)`,
    );
  }
  // Every entry point in one object, "." last so that its names win.
  const { ".": main, ...others } = provided;
  const library = Object.assign({}, ...Object.values(others), main);
  publishLibrary(library);
  shim = shimSpecifier(Object.keys(library));
  return shim;
}
