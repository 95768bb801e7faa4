/**
 * Parsing JSON text from outside the process without `JSON.parse`'s trap: a document nested
 * deeply costs it many times more per byte than a flat one, so a 1 MiB body of brackets would
 * hold the thread (and every other request) far longer than its size suggests. A linear pass
 * over the text, stopping at the first level too deep, refuses such a document first.
 *
 * @module
 */

/** How deep a JSON document may nest: an untyped value's own limit (64) and room to spare. */
export const MAX_JSON_DEPTH = 128;

/**
 * Texts up to this many characters skip the pass: at worst they nest a few thousand levels,
 * which parses in well under a millisecond, and the nesting checks after the parse (64
 * levels for an untyped value) refuse them; the pass would cost small calls more than it
 * saves.
 */
export const DEPTH_SCAN_FROM = 4096;

/** Thrown by {@linkcode parseJsonText} for a document nested too deep; a `SyntaxError`. */
export class JsonTooDeepError extends SyntaxError {
  override name = "JsonTooDeepError";
}

const QUOTE = 0x22, BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d;

/**
 * `JSON.parse(text)`, refusing with a {@linkcode JsonTooDeepError} a text longer than
 * {@linkcode DEPTH_SCAN_FROM} that nests deeper than `maxDepth`, before parsing it. Other
 * malformed text throws `JSON.parse`'s own `SyntaxError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonText } from "./json_text.ts";
 *
 * assert.deepEqual(parseJsonText('{"a":[1,"]]"]}'), { a: [1, "]]"] });
 * const deep = "[".repeat(100_000) + "]".repeat(100_000);
 * assert.throws(() => parseJsonText(deep), /JSON nests deeper than 128 levels/);
 * ```
 */
export function parseJsonText(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  if (text.length > DEPTH_SCAN_FROM) refuseDeep(text, maxDepth);
  return JSON.parse(text);
}

/** Throws when `text` nests deeper than `maxDepth` outside its strings. */
function refuseDeep(text: string, maxDepth: number): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > maxDepth) {
        throw new JsonTooDeepError(`JSON nests deeper than ${maxDepth} levels`);
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
}

/** The index of the quote closing the string that opens at `start` (or the text's end). */
function stringEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i < 0) return text.length;
    // Escaped when an odd number of backslashes precede it.
    let slashes = 0;
    while (text.charCodeAt(i - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return i;
  }
}
