// parseJsonText: JSON.parse, but a long text nested too deep is refused before it is parsed.
import assert from "node:assert/strict";
import {
  DEPTH_SCAN_FROM,
  JsonTooDeepError,
  MAX_JSON_DEPTH,
  parseJsonText,
} from "../../../src/wire/jsonrpc/json_text.ts";

/** `depth` nested arrays, padded with a string to more than the scan threshold. */
const nested = (depth: number, pad = DEPTH_SCAN_FROM) =>
  `[${JSON.stringify("x".repeat(pad))},` + "[".repeat(depth - 1) + "]".repeat(depth);

Deno.test("a long text is refused when it nests deeper than the limit, not at it", () => {
  assert.equal(MAX_JSON_DEPTH, 128);
  assert.ok(Array.isArray(parseJsonText(nested(MAX_JSON_DEPTH))));
  assert.throws(() => parseJsonText(nested(MAX_JSON_DEPTH + 1)), JsonTooDeepError);
  assert.throws(() => parseJsonText(nested(MAX_JSON_DEPTH + 1)), SyntaxError);
  const objects = `{"p":${JSON.stringify("x".repeat(DEPTH_SCAN_FROM))},"a":` +
    '{"a":'.repeat(200) + "1" + "}".repeat(201);
  assert.throws(() => parseJsonText(objects), /JSON nests deeper than 128 levels/);
  // Unbalanced text is refused as soon as the limit is passed, whatever follows.
  assert.throws(() => parseJsonText("[".repeat(1_000_000)), /deeper than 128/);
});

Deno.test("brackets inside strings, escaped quotes included, do not count", () => {
  const inString = JSON.stringify(["[".repeat(10_000), '\\"[[[', "\\", "{".repeat(5000)]);
  assert.deepEqual(parseJsonText(inString), JSON.parse(inString));
  // An escaped backslash before a quote ends the string; brackets after it count again.
  const afterEscapes = `["${"a".repeat(DEPTH_SCAN_FROM)}\\\\",` + "[".repeat(200) +
    "]".repeat(201);
  assert.throws(() => parseJsonText(afterEscapes), JsonTooDeepError);
});

Deno.test("short texts and malformed ones are JSON.parse's", () => {
  // Too short to cost much whatever their depth: the checks after the parse judge them.
  const short = "[".repeat(1000) + "]".repeat(1000);
  assert.equal(short.length <= DEPTH_SCAN_FROM, true);
  assert.ok(Array.isArray(parseJsonText(short)));
  assert.throws(
    () => parseJsonText("{"),
    (e) => e instanceof SyntaxError && !(e instanceof JsonTooDeepError),
  );
  assert.throws(() => parseJsonText('"unterminated' + " ".repeat(DEPTH_SCAN_FROM)), SyntaxError);
});
