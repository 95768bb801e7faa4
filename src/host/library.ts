/**
 * The host's copy of Switchboard as seen by components it loads through data: URLs:
 * whatever URL a component used to name Switchboard (or one of its entry points), it gets
 * this copy's `implement`, `t` and the rest.
 *
 * @module
 */

import * as main from "../../mod.ts";
import * as xmlrpc from "../../xmlrpc.ts";
import * as tcp from "../../tcp.ts";
import * as amqp from "../../amqp.ts";
import * as server from "../../server.ts";
import * as deploy from "../../deploy.ts";
import { publishLibrary, shimSpecifier } from "./shim.ts";

let shim: string | undefined;

/** Publishes this copy of the library; returns the data: URL of its re-exporting module. */
export function librarySpecifier(): string {
  if (shim) return shim;
  // Every entry point in one object: a component may import any of them.
  const library = { ...deploy, ...server, ...amqp, ...tcp, ...xmlrpc, ...main };
  publishLibrary(library);
  shim = shimSpecifier(Object.keys(library));
  return shim;
}

/** The URL of this copy's `mod.ts` (imports of it resolve to the published library). */
export const OWN_MODULE: URL = new URL("../../mod.ts", import.meta.url);
