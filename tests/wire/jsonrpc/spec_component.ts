// The component the JSON-RPC 2.0 specification's examples (section 7) talk to, and those
// examples with their expected responses. Used by the codec, HTTP and CLI tests; also a
// loadable component module (`switchboard serve --component` this file).
//
// `foobar` is deliberately NOT implemented: the spec uses it both as a notification (which
// gets no response whether or not the method exists) and as its "non-existent method".

import { defineInterface, implement, method, t } from "../../../mod.ts";

/** Every notification the component received, in order (for the tests to inspect). */
export const received: { method: string; params: unknown }[] = [];

/** The spec's methods. */
export const Spec = defineInterface("Spec", {
  subtract: method({ params: { minuend: t.int, subtrahend: t.int }, result: t.int }),
  sum: method({ params: { a: t.int, b: t.int, c: t.int }, result: t.int }),
  update: method({
    params: {
      a: t.optional(t.int),
      b: t.optional(t.int),
      c: t.optional(t.int),
      d: t.optional(t.int),
      e: t.optional(t.int),
    },
  }),
  notify_hello: method({ params: { n: t.int } }),
  notify_sum: method({ params: { a: t.int, b: t.int, c: t.int } }),
  get_data: method({ result: t.array(t.any) }),
});

export default implement(Spec, {
  subtract: ({ minuend, subtrahend }) => minuend - subtrahend,
  sum: ({ a, b, c }) => a + b + c,
  update: (params) => void received.push({ method: "update", params }),
  notify_hello: (params) => void received.push({ method: "notify_hello", params }),
  notify_sum: (params) => void received.push({ method: "notify_sum", params }),
  get_data: () => ["hello", 5],
});

/** What a response object must carry: id, and either result or error code. */
export type Expected = { id: unknown; result?: unknown; code?: number };

/** One example of section 7: the request text and the expected response(s). */
export interface SpecExample {
  /** The example's title in the spec. */
  name: string;
  /** The request body, as the spec writes it. */
  request: string;
  /** `null`: no response at all; an object: one response; an array: a batch response. */
  expect: Expected | Expected[] | null;
}

/** Section 7 of https://www.jsonrpc.org/specification, every example. */
export const specExamples: SpecExample[] = [
  {
    name: "rpc call with positional parameters (1)",
    request: '{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}',
    expect: { id: 1, result: 19 },
  },
  {
    name: "rpc call with positional parameters (2)",
    request: '{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}',
    expect: { id: 2, result: -19 },
  },
  {
    name: "rpc call with named parameters (1)",
    request:
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
    expect: { id: 3, result: 19 },
  },
  {
    name: "rpc call with named parameters (2)",
    request:
      '{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
    expect: { id: 4, result: 19 },
  },
  {
    name: "a notification (update)",
    request: '{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}',
    expect: null,
  },
  {
    name: "a notification (foobar)",
    request: '{"jsonrpc": "2.0", "method": "foobar"}',
    expect: null,
  },
  {
    name: "rpc call of non-existent method",
    request: '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
    expect: { id: "1", code: -32601 },
  },
  {
    name: "rpc call with invalid JSON",
    request: '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]',
    expect: { id: null, code: -32700 },
  },
  {
    name: "rpc call with invalid Request object",
    request: '{"jsonrpc": "2.0", "method": 1, "params": "bar"}',
    expect: { id: null, code: -32600 },
  },
  {
    name: "rpc call Batch, invalid JSON",
    request: `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
    expect: { id: null, code: -32700 },
  },
  {
    name: "rpc call with an empty Array",
    request: "[]",
    expect: { id: null, code: -32600 },
  },
  {
    name: "rpc call with an invalid Batch (but not empty)",
    request: "[1]",
    expect: [{ id: null, code: -32600 }],
  },
  {
    name: "rpc call with invalid Batch",
    request: "[1,2,3]",
    expect: [{ id: null, code: -32600 }, { id: null, code: -32600 }, { id: null, code: -32600 }],
  },
  {
    name: "rpc call Batch",
    request: `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
  {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
  {"foo": "boo"},
  {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
  {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
]`,
    expect: [
      { id: "1", result: 7 },
      { id: "2", result: 19 },
      { id: null, code: -32600 },
      { id: "5", code: -32601 },
      { id: "9", result: ["hello", 5] },
    ],
  },
  {
    name: "rpc call Batch (all notifications)",
    request: `[
  {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
  {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
]`,
    expect: null,
  },
];

/**
 * Checks a parsed response against an example's expectation: same shape (single, batch or
 * nothing), jsonrpc "2.0", same ids, results and error codes (batch order aside), a
 * non-empty message on every error, and nothing else in the objects.
 */
export function matchesSpec(example: SpecExample, response: unknown): string | undefined {
  const { expect } = example;
  if (expect === null) {
    return response === undefined
      ? undefined
      : `expected no response, got ${JSON.stringify(response)}`;
  }
  if (Array.isArray(expect) !== Array.isArray(response)) {
    return `expected ${Array.isArray(expect) ? "a batch" : "one"} response, got ${
      JSON.stringify(response)
    }`;
  }
  const actual = (Array.isArray(response) ? response : [response]).map(normalise);
  const wanted = (Array.isArray(expect) ? expect : [expect]).map((e) => JSON.stringify(e));
  const sorted = (list: string[]) => [...list].sort();
  const got = sorted(actual), want = sorted(wanted);
  return JSON.stringify(got) === JSON.stringify(want)
    ? undefined
    : `expected ${want.join(" ")}, got ${got.join(" ")}`;
}

function normalise(item: unknown): string {
  const r = item as Record<string, unknown>;
  const keys = Object.keys(r).sort().join(",");
  if (r.jsonrpc !== "2.0") return `bad jsonrpc member: ${JSON.stringify(item)}`;
  if ("result" in r) {
    if (keys !== "id,jsonrpc,result") return `unexpected members: ${JSON.stringify(item)}`;
    return JSON.stringify({ id: r.id, result: r.result });
  }
  const e = r.error as Record<string, unknown>;
  if (keys !== "error,id,jsonrpc" || typeof e?.message !== "string" || !e.message) {
    return `bad error response: ${JSON.stringify(item)}`;
  }
  return JSON.stringify({ id: r.id, code: e.code });
}
