/**
 * `system.multicall` inputs, each with what the answer must be: entries from the corpus and
 * its mutations, unknown and hidden names, nested multicalls, malformed entries, bombs of
 * `rpc.discover` entries (an answer far larger than the request), and counts around and
 * beyond the batch limit. Values are written by the server's own writer, so the generator
 * knows how many entries the server reads and which ones must fault; a few inputs use the
 * XML-RPC generator's spelling variations instead, and are checked only for a well-formed,
 * bounded answer.
 *
 * @module
 */

import { escapeXml, writeUntyped } from "../../src/wire/xmlrpc/writer.ts";
import type { Rng } from "./rng.ts";
import { type CallSpec, mutateCall, randomString, validCalls } from "./values.ts";
import { emitValue } from "./xmlrpc_gen.ts";

const CORPUS = validCalls();
const encoder = new TextEncoder();

/** The batch limit of the server under fuzz (its default). */
export const MAX_CALLS = 1000;

/** What an entry is, and so what its answer must be. */
export type EntryKind = "call" | "nested" | "malformed";

/** One entry of a multicall: its `<value>` text, and the params as the call alone sends them. */
export interface Entry {
  kind: EntryKind;
  method?: string;
  /** The method name as the XML text spells it. */
  name?: string;
  /** The `<value>` of each param (also what the same call alone sends, for comparison). */
  values?: string[];
  text: string;
}

/** A multicall input and what its answer must be. */
export interface MulticallInput {
  body: Uint8Array;
  entries: Entry[];
  /** Written by the server's own writer: its entry count and kinds are certain. */
  strict: boolean;
}

/** A method name as XML text: the server's escaping, or as it is when XML cannot carry it. */
function nameText(name: string, strict: boolean): { text: string; strict: boolean } {
  try {
    return { text: escapeXml(name), strict };
  } catch {
    return { text: name, strict: false }; // the document is then not XML: a parse fault
  }
}

/** A value's `<value>` text: the server's writer when it can write it, else the fuzz spelling. */
function valueText(rng: Rng, v: unknown, strict: boolean): { text: string; strict: boolean } {
  if (strict) {
    try {
      return { text: writeUntyped(v), strict };
    } catch {
      // A value XML cannot carry (a lone surrogate, a control character): spelled anyway.
    }
  }
  return { text: emitValue(rng, v), strict: false };
}

function callEntry(rng: Rng, call: CallSpec, strict: boolean): { entry: Entry; strict: boolean } {
  const list = Array.isArray(call.params)
    ? call.params
    : call.params === undefined
    ? []
    : rng.chance(0.5) && typeof call.params === "object" && call.params !== null
    ? Object.values(call.params) // by position, as XML-RPC clients send them
    : [call.params];
  const name = nameText(call.method, strict);
  strict = name.strict;
  const values: string[] = [];
  for (const p of list) {
    const written = valueText(rng, p, strict);
    strict = written.strict;
    values.push(written.text);
  }
  const text = `<value><struct><member><name>methodName</name><value><string>${name.text}` +
    `</string></value></member><member><name>params</name><value><array><data>${
      values.join("")
    }</data></array></value></member></struct></value>`;
  return { entry: { kind: "call", method: call.method, name: name.text, values, text }, strict };
}

const MALFORMED = [
  "<value><string>Calculator.add</string></value>",
  "<value><struct></struct></value>",
  "<value><struct><member><name>methodName</name><value><int>7</int></value></member></struct></value>",
  "<value><struct><member><name>methodName</name><value>Calculator.add</value></member>" +
  "<member><name>params</name><value><int>1</int></value></member></struct></value>",
  "<value><array><data><value>Calculator.add</value></data></array></value>",
  "<value><nil/></value>",
];

function nestedEntry(rng: Rng): Entry {
  const inner = rng.chance(0.5) ? "" : callEntry(rng, rng.pick(CORPUS), true).entry.text;
  return {
    kind: "nested",
    method: "system.multicall",
    text: `<value><struct><member><name>methodName</name><value>system.multicall</value>` +
      `</member><member><name>params</name><value><array><data><value><array><data>${inner}` +
      `</data></array></value></data></array></value></member></struct></value>`,
  };
}

/** How many entries: mostly few, sometimes around the limit, sometimes far over it. */
function entryCount(rng: Rng, budget: number): number {
  const roll = rng.int(100);
  if (roll < 85) return Math.max(1, Math.min(budget, rng.size(40) + 1));
  if (roll < 95) return rng.range(MAX_CALLS - 3, MAX_CALLS + 3);
  return rng.range(MAX_CALLS + 1, 2 * MAX_CALLS);
}

/** The entry most of a large multicall is made of: small, so that its body stays under the limit. */
const FILLER: Entry = {
  kind: "call",
  method: "Calculator.add",
  name: "Calculator.add",
  values: ["<value><int>2</int></value>", "<value><int>3</int></value>"],
  text: "<value><struct><member><name>methodName</name><value>Calculator.add</value></member>" +
    "<member><name>params</name><value><array><data><value><int>2</int></value>" +
    "<value><int>3</int></value></data></array></value></member></struct></value>",
};

/** One multicall input of at most about `budget` entries (limit probes may exceed it). */
export function multicallInput(rng: Rng, budget: number): MulticallInput {
  let strict = rng.chance(0.9);
  // A bomb: rpc.discover entries, whose answers are far larger than their requests.
  const bomb = rng.chance(0.05);
  const n = bomb ? rng.range(200, MAX_CALLS) : entryCount(rng, budget);
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rng.int(100);
    if (n > 100 && !bomb && roll < 90) entries.push(FILLER);
    else if (bomb || roll < 3) {
      entries.push(callEntry(rng, { method: "rpc.discover", params: [] }, strict).entry);
    } else if (roll < 6) entries.push(nestedEntry(rng));
    else if (roll < 9) entries.push({ kind: "malformed", text: rng.pick(MALFORMED) });
    else {
      let call = rng.pick(CORPUS);
      if (rng.chance(0.4)) call = mutateCall(rng, call);
      if (rng.chance(0.03)) call = { method: randomString(rng), params: [] };
      let made = callEntry(rng, call, strict);
      // Deep and wide mutations would make one entry most of the body: the plain call instead.
      if (made.entry.text.length > 20_000) made = callEntry(rng, rng.pick(CORPUS), strict);
      // An entry that names the multicall nests, whatever else it holds.
      if (made.entry.method === "system.multicall") made.entry.kind = "nested";
      strict = made.strict;
      entries.push(made.entry);
    }
  }
  const text = `<?xml version="1.0"?>\n<methodCall><methodName>system.multicall</methodName>` +
    `<params><param><value><array><data>${
      entries.map((e) => e.text).join("")
    }</data></array></value></param></params></methodCall>`;
  return { body: encoder.encode(text), entries, strict };
}

/** The same call alone, for comparing its answer with its entry's. */
export function singleCall(entry: Entry): Uint8Array {
  return encoder.encode(
    `<?xml version="1.0"?>\n<methodCall><methodName>${entry.name}</methodName><params>${
      entry.values!.map((v) => `<param>${v}</param>`).join("")
    }</params></methodCall>`,
  );
}
