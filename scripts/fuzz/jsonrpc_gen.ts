/**
 * JSON-RPC inputs: request members built from the corpus with structural mutations
 * (ids, versions, duplicate keys, odd numbers and escapes, deep and wide values), whole
 * bodies (batches, batch bombs, non-objects) and byte-level mutations of them.
 *
 * @module
 */

import { encodeBase64 } from "../../src/core/base64.ts";
import type { Rng } from "./rng.ts";
import { concat, mutateBytes } from "./mutate_bytes.ts";
import {
  type CallSpec,
  Deep,
  Entries,
  Ext,
  mutateCall,
  randomString,
  randomValue,
  RawText,
  validCalls,
} from "./values.ts";

const CORPUS = validCalls();
const encoder = new TextEncoder();

/** Writes a value as JSON text with random (valid) spelling variations. */
export function emitJson(rng: Rng, value: unknown): string {
  if (value instanceof RawText) return value.text;
  if (value instanceof Deep) {
    const leaf = rng.chance(0.5) ? "1" : '"x"';
    return value.objects
      ? '{"a":'.repeat(value.depth) + leaf + "}".repeat(value.depth)
      : "[".repeat(value.depth) + leaf + "]".repeat(value.depth);
  }
  if (value === null || value === undefined || value instanceof Ext) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return emitString(rng, value);
  if (value instanceof Date) return `{"$date":${JSON.stringify(value.toISOString())}}`;
  if (value instanceof Uint8Array) return `{"$bytes":"${encodeBase64(value)}"}`;
  if (value instanceof Entries) {
    return `{${
      value.entries.map(([k, v]) => `${emitString(rng, String(k))}:${emitJson(rng, v)}`).join(",")
    }}`;
  }
  const space = rng.chance(0.1) ? " \n\t" : "";
  if (Array.isArray(value)) return `[${value.map((v) => emitJson(rng, v)).join(`,${space}`)}]`;
  const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
    `${emitString(rng, k)}:${space}${emitJson(rng, v)}`
  );
  if (parts.length && rng.chance(0.05)) parts.push(parts[0]); // a duplicate key
  return `{${parts.join(",")}}`;
}

function emitString(rng: Rng, s: string): string {
  if (!rng.chance(0.1)) return JSON.stringify(s);
  // Every code unit escaped (lone surrogates included), as some clients write them.
  let out = '"';
  for (let i = 0; i < s.length; i++) out += `\\u${s.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out + '"';
}

const IDS: unknown[] = [
  1,
  0,
  -1,
  2 ** 53,
  1.5,
  "abc",
  "",
  null,
  new RawText("1e400"),
  true,
  [1],
  { id: 1 },
  new RawText("12345678901234567890123"),
];
const VERSIONS: unknown[] = ["2.0", "1.0", 2, 2.0, null, "2.0 ", ""];

/** One request member (a call, notification or invalid object) as JSON text. */
export function memberText(rng: Rng, id: number): string {
  let call: CallSpec = rng.pick(CORPUS);
  if (rng.chance(0.8)) call = mutateCall(rng, call, { json: true });
  const member: Record<string, unknown> = {};
  const version = rng.chance(0.85) ? "2.0" : rng.pick(VERSIONS);
  if (version !== null || rng.chance(0.5)) member.jsonrpc = version;
  if (rng.chance(0.9)) member.method = call.method;
  else member.method = randomValue(rng, 1, { json: true });
  if (call.params !== undefined && rng.chance(0.95)) member.params = call.params;
  const idRoll = rng.int(10);
  if (idRoll < 7) member.id = id;
  else if (idRoll < 9) member.id = rng.pick(IDS);
  // else: a notification
  if (rng.chance(0.03)) member[randomString(rng)] = randomValue(rng, 1, { json: true });
  if (rng.chance(0.03)) return emitJson(rng, randomValue(rng, 2, { json: true }));
  return emitJson(rng, member);
}

/** A batch body of the given members. */
export function batchBody(members: string[]): Uint8Array {
  return encoder.encode(`[${members.join(",")}]`);
}

/** A whole request body, often byte-mutated afterwards. */
export function wholeBody(rng: Rng, id: number): Uint8Array {
  let text: string;
  switch (rng.int(8)) {
    case 0: // batch bomb: many tiny members
      text = `[${"1,".repeat(rng.size(500_000))}1]`;
      break;
    case 1: // many real calls in one batch
      text = `[${
        Array.from({ length: rng.size(5_000) + 1 }, (_, i) =>
          `{"jsonrpc":"2.0","id":${i},"method":"Calculator.add","params":[${i},1]}`).join(",")
      }]`;
      break;
    case 2:
      text = rng.pick(["[]", "{}", "null", "1", '"x"', "[[]]", "[{}]", "", " ", "\ufeff{}"]);
      break;
    case 3:
      text = `[${Array.from({ length: rng.size(20) + 1 }, () => memberText(rng, id)).join(",")}]`;
      break;
    default:
      text = memberText(rng, id);
  }
  let bytes: Uint8Array = encoder.encode(text);
  if (rng.chance(0.6)) {
    const other = encoder.encode(memberText(rng, id + 1));
    bytes = mutateBytes(rng, bytes, other);
  }
  if (rng.chance(0.02)) bytes = concat(Uint8Array.of(0xef, 0xbb, 0xbf), bytes); // a BOM
  return bytes;
}

/** The known call interleaved with the fuzz inputs, and its expected answer. */
export const NORMAL_CALL =
  '{"jsonrpc":"2.0","id":"normal","method":"Calculator.add","params":{"a":2,"b":3}}';
