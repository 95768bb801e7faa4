/**
 * One interface, one shared table of calls, three protocols: JSON-RPC over HTTP, XML-RPC
 * over HTTP and msgpack-rpc over TCP, all served by one router. Every row runs through a
 * typed proxy and through untyped `client.call` on each protocol, and must give the same
 * result, or the same error `code`, `name` and `message`. Where a protocol cannot carry
 * something, the row says so in `differs` (with the reason), rather than skipping it.
 */

import assert from "node:assert/strict";
import { AuthGate, bearerBackend, compile, httpAuthenticator, Server } from "../../server.ts";
import {
  bearerCredentials,
  type CallOptions,
  type Client,
  connect,
  defineError,
  defineInterface,
  implement,
  type Infer,
  method,
  RpcError,
  t,
} from "../../mod.ts";
import "../../xmlrpc.ts"; // connect() speaks xmlrpc
import "../../tcp.ts"; // connect() speaks tcp

const NotFound = defineError("NotFound");
const Conflict = defineError("Conflict", { code: -32010 });

const Color = t.enumeration("red", "green", "blue");
const Loose = t.struct("Loose", { id: t.int }, { extra: "allow" });
const Level = t.literal(1, 2, 3);
const Item = t.struct("Item", {
  id: t.int,
  score: t.float,
  tags: t.array(t.string),
  color: Color,
  level: Level,
  note: t.optional(t.string),
  parent: t.nullable(t.int),
  at: t.datetime,
  blob: t.bytes,
  flags: t.map(t.bool),
  children: t.array(t.struct("Child", { name: t.string, big: t.int64 })),
});

/** One method per IDL type (each echoes its param), plus methods that fail on purpose. */
const Oracle = defineInterface("Oracle", {
  int: method({ params: { v: t.int }, result: t.int }),
  int64: method({ params: { v: t.int64 }, result: t.int64 }),
  float: method({ params: { v: t.float }, result: t.float }),
  string: method({ params: { v: t.string }, result: t.string }),
  bool: method({ params: { v: t.bool }, result: t.bool }),
  bytes: method({ params: { v: t.bytes }, result: t.bytes }),
  datetime: method({ params: { v: t.datetime }, result: t.datetime }),
  ints: method({ params: { v: t.array(t.int) }, result: t.array(t.int) }),
  floats: method({ params: { v: t.map(t.float) }, result: t.map(t.float) }),
  item: method({ params: { v: Item }, result: Item }),
  /** Returns an Item whose optional `note` is present but undefined. */
  sparse: method({ params: { id: t.int }, result: Item }),
  optional: method({ params: { v: t.optional(t.string) }, result: t.optional(t.string) }),
  nullable: method({ params: { v: t.nullable(t.int) }, result: t.nullable(t.int) }),
  color: method({ params: { v: Color }, result: Color }),
  any: method({ params: { v: t.any }, result: t.any }),
  /** "At least these fields": members beyond `id` are kept. */
  loose: method({ params: { v: Loose }, result: Loose }),
  /** What the handler received, as a string: proves each protocol decodes alike. */
  kinds: method({ params: { v: t.any }, result: t.string }),
  ping: method({}),
  protocol: method({ result: t.string }),
  /** Who the router says is calling. */
  caller: method({ result: t.string }),
  fail: method({
    params: { how: t.enumeration("not-found", "conflict", "throw", "bad-result") },
    result: t.int,
  }),
  /** Waits `ms` or until its deadline, whichever comes first. */
  slow: method({ params: { ms: t.int }, result: t.int }),
  /** Calls `slow` with a short deadline of its own, so the Timeout is raised server-side. */
  relay: method({ params: { timeout: t.int }, result: t.int }),
});

/** Served only to callers the `allow` predicate admits (no one anonymous). */
const Vault = defineInterface("Vault", { open: method({ result: t.string }) });

/** Declared here, never served: the proxy of a method the server does not know. */
const Ghost = defineInterface("Oracle", { nope: method({ result: t.int }) });

function kinds(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Date) return "date";
  if (v instanceof Uint8Array) return `bytes(${v.length})`;
  if (Array.isArray(v)) return `[${v.map(kinds).join(",")}]`;
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "object") {
    return `{${Object.entries(v).map(([k, x]) => `${k}:${kinds(x)}`).join(",")}}`;
  }
  return typeof v;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

const when = new Date("2024-02-29T12:34:56Z");
const item: Infer<typeof Item> = {
  id: 7,
  score: 2.5,
  tags: ["a", "b"],
  color: "green",
  level: 2,
  note: "hi",
  parent: null,
  at: when,
  blob: new Uint8Array([0, 1, 254, 255]),
  flags: { on: true, off: false },
  children: [{ name: "c", big: 2n ** 62n }, { name: "d", big: -1 }],
};
/** `item` as untyped JSON-RPC delivers it: JSON has no 64-bit integers (see `raw`). */
const itemViaJson = {
  ...item,
  children: [{ name: "c", big: "4611686018427387904" }, { name: "d", big: -1 }],
};
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const mixed = [1, 1.5, null, "s", true, when, new Uint8Array([9]), { a: [null, {}] }, []];

const PROTOCOLS = ["jsonrpc", "xmlrpc", "msgpack-rpc"] as const;
type Protocol = typeof PROTOCOLS[number];
type User = "root" | "guest";
type Expected =
  | { result: unknown }
  | { error: { code: number; name: string; message: string | RegExp; data?: unknown } };

interface Row {
  /** What the row shows. */
  what: string;
  method: string;
  params: unknown;
  expect: Expected;
  /** Known differences of a protocol, each with a comment saying why. */
  differs?: Partial<Record<Protocol, Expected>>;
  /**
   * What untyped `client.call` resolves to where it differs from the typed result on a
   * protocol; the proxy's normalisation must still turn it into the typed result.
   */
  raw?: Partial<Record<Protocol, unknown>>;
  options?: CallOptions;
  /** Call as this logged-in user (a bearer token) rather than anonymously. */
  as?: User;
}

const invalid = (message: string | RegExp): Expected => ({
  error: { code: -32602, name: "InvalidParams", message },
});
const internal: Expected = {
  error: { code: -32603, name: "InternalError", message: "Internal error" },
};

const TABLE: Row[] = [
  // --- every IDL type, round trip ---
  { what: "int", method: "int", params: { v: 42 }, expect: { result: 42 } },
  {
    what: "int, 32-bit min",
    method: "int",
    params: { v: -(2 ** 31) },
    expect: { result: -(2 ** 31) },
  },
  {
    what: "int beyond 32 bits",
    method: "int",
    params: { v: 2 ** 40 },
    expect: { result: 2 ** 40 },
    differs: {
      // XML-RPC's <int> is 32-bit: a t.int result beyond it is a fault, not a silent <double>
      // (declare t.int64 to get <i8>, see the next row).
      xmlrpc: {
        error: {
          code: -32603,
          name: "InternalError",
          message:
            "Internal error: the result of Oracle.int cannot travel over XML-RPC: result: 1099511627776 does not fit XML-RPC's 32-bit <int> (declare the type t.int64 for <i8>)",
        },
      },
    },
  },
  { what: "int64 (safe)", method: "int64", params: { v: 2 ** 40 }, expect: { result: 2 ** 40 } },
  {
    what: "int64 beyond 2^53",
    method: "int64",
    params: { v: 2n ** 62n },
    expect: { result: 2n ** 62n },
    // JSON has no 64-bit integers: it travels as a decimal string, which the proxy revives.
    raw: { jsonrpc: "4611686018427387904" },
  },
  {
    what: "int64 minimum",
    method: "int64",
    params: { v: -(2n ** 63n) },
    expect: { result: -(2n ** 63n) },
    raw: { jsonrpc: "-9223372036854775808" },
  },
  { what: "float", method: "float", params: { v: 1.5 }, expect: { result: 1.5 } },
  { what: "float that is whole", method: "float", params: { v: 3 }, expect: { result: 3 } },
  { what: "float 0.1", method: "float", params: { v: 0.1 }, expect: { result: 0.1 } },
  { what: "float huge", method: "float", params: { v: 1e300 }, expect: { result: 1e300 } },
  { what: "float subnormal", method: "float", params: { v: 5e-324 }, expect: { result: 5e-324 } },
  { what: "string empty", method: "string", params: { v: "" }, expect: { result: "" } },
  {
    what: "string with markup, unicode, CR LF, tab, trailing spaces",
    method: "string",
    params: { v: "<&>]]> é 🎉\r\nx\ry\t  " },
    expect: { result: "<&>]]> é 🎉\r\nx\ry\t  " },
  },
  {
    what: "string with a control character",
    method: "string",
    params: { v: "a\u0001b" },
    expect: { result: "a\u0001b" },
    differs: {
      // XML 1.0 cannot hold U+0001 at all: the XML-RPC client refuses to send it.
      xmlrpc: invalid(
        "Oracle.string: params.v: string holds U+0001, which XML cannot carry (send bytes)",
      ),
    },
  },
  { what: "bool true", method: "bool", params: { v: true }, expect: { result: true } },
  { what: "bool false", method: "bool", params: { v: false }, expect: { result: false } },
  {
    what: "bytes, every value",
    method: "bytes",
    params: { v: allBytes },
    expect: { result: allBytes },
  },
  {
    what: "bytes given as a string",
    method: "bytes",
    params: { v: "abcd" },
    // Text protocols carry bytes as base64 strings: "abcd" is the 3 bytes it encodes.
    expect: { result: new Uint8Array([0x69, 0xb7, 0x1d]) },
    differs: {
      // msgpack has bin for bytes: a str is text (as Neovim sends Lua strings), its UTF-8.
      "msgpack-rpc": { result: new TextEncoder().encode("abcd") },
    },
  },
  {
    what: "struct with extra members allowed",
    method: "loose",
    params: { v: { id: 1, more: "kept", deep: { n: [1, 2] } } },
    expect: { result: { id: 1, more: "kept", deep: { n: [1, 2] } } },
  },
  {
    what: "bytes, empty",
    method: "bytes",
    params: { v: new Uint8Array() },
    expect: { result: new Uint8Array() },
  },
  { what: "datetime", method: "datetime", params: { v: when }, expect: { result: when } },
  {
    what: "datetime before 1970",
    method: "datetime",
    params: { v: new Date("1900-01-01T00:00:00Z") },
    expect: { result: new Date("1900-01-01T00:00:00Z") },
  },
  {
    what: "datetime with milliseconds",
    method: "datetime",
    params: { v: new Date("2024-02-29T12:34:56.789Z") },
    expect: { result: new Date("2024-02-29T12:34:56.789Z") },
    differs: {
      // <dateTime.iso8601> has whole seconds only.
      xmlrpc: { result: when },
    },
  },
  { what: "array, empty", method: "ints", params: { v: [] }, expect: { result: [] } },
  { what: "array", method: "ints", params: { v: [1, -2, 3] }, expect: { result: [1, -2, 3] } },
  {
    what: "map with odd keys",
    method: "floats",
    params: { v: { a: 1.5, "a b": 2, "": 0, "<&>": -1 } },
    expect: { result: { a: 1.5, "a b": 2, "": 0, "<&>": -1 } },
  },
  {
    what: "struct, every field type",
    method: "item",
    params: { v: item },
    expect: { result: item },
    raw: { jsonrpc: itemViaJson },
  },
  {
    // An undefined member is absent on every wire, as in JSON (msgpack used to send nil).
    what: "struct, optional field undefined",
    method: "item",
    params: { v: { ...item, note: undefined, parent: 3 } },
    expect: { result: { ...without(item, "note"), parent: 3 } },
    raw: { jsonrpc: { ...without(itemViaJson, "note"), parent: 3 } },
  },
  {
    what: "struct result with an optional field set to undefined",
    method: "sparse",
    params: { id: 1 },
    expect: { result: { ...without(item, "note"), id: 1 } },
    raw: { jsonrpc: { ...without(itemViaJson, "note"), id: 1 } },
  },
  { what: "optional, given", method: "optional", params: { v: "x" }, expect: { result: "x" } },
  // No protocol carries undefined: an absent optional result is null, on every protocol.
  // No protocol carries undefined: the wire says null, the proxy returns the declared absence.
  {
    what: "optional, absent",
    method: "optional",
    params: {},
    expect: { result: undefined },
    raw: { jsonrpc: null, xmlrpc: null, "msgpack-rpc": null },
  },
  {
    what: "optional, undefined",
    method: "optional",
    params: { v: undefined },
    expect: { result: undefined },
    raw: { jsonrpc: null, xmlrpc: null, "msgpack-rpc": null },
  },
  { what: "nullable, null", method: "nullable", params: { v: null }, expect: { result: null } },
  { what: "nullable, value", method: "nullable", params: { v: 5 }, expect: { result: 5 } },
  { what: "enumeration", method: "color", params: { v: "blue" }, expect: { result: "blue" } },
  { what: "any, mixed", method: "any", params: { v: mixed }, expect: { result: mixed } },
  { what: "any, null", method: "any", params: { v: null }, expect: { result: null } },
  {
    what: "any, as the handler sees it",
    method: "kinds",
    params: { v: mixed },
    expect: { result: "[int,float,null,string,boolean,date,bytes(1),{a:[null,{}]},[]]" },
  },
  {
    what: "any, a __proto__ key",
    method: "any",
    params: { v: JSON.parse('{"__proto__": 1, "constructor": 2}') },
    // The same own key on every protocol (msgpackr alone would rename it `__proto_`).
    expect: { result: JSON.parse('{"__proto__": 1, "constructor": 2}') },
  },
  { what: "no result", method: "ping", params: {}, expect: { result: null } },
  { what: "params by position", method: "int", params: [9], expect: { result: 9 } },
  {
    what: "each client really speaks its protocol",
    method: "protocol",
    params: {},
    expect: { result: "jsonrpc" },
    differs: { xmlrpc: { result: "xmlrpc" }, "msgpack-rpc": { result: "msgpack-rpc" } },
  },

  // --- errors ---
  {
    what: "application error: name, message and data kept",
    method: "fail",
    params: { how: "not-found" },
    expect: {
      error: { code: -32000, name: "NotFound", message: "no widget 7", data: { id: 7 } },
    },
  },
  {
    what: "application error with its own code",
    method: "fail",
    params: { how: "conflict" },
    expect: { error: { code: -32010, name: "Conflict", message: "already there" } },
  },
  {
    what: "unexpected exception: no detail",
    method: "fail",
    params: { how: "throw" },
    expect: internal,
  },
  {
    what: "bad result: no detail",
    method: "fail",
    params: { how: "bad-result" },
    expect: internal,
  },
  {
    what: "wrong type",
    method: "int",
    params: { v: "7" },
    expect: invalid('params.v: expected int, got "7"'),
  },
  {
    what: "1.5 for an int",
    method: "int",
    params: { v: 1.5 },
    expect: invalid("params.v: expected int, got 1.5"),
  },
  {
    what: "missing param",
    method: "int",
    params: {},
    expect: invalid("params.v: expected int, got nothing"),
  },
  {
    what: "unknown param",
    method: "int",
    params: { v: 1, bogus: 2 },
    // XML-RPC too: params by name travel as a struct the client marks as named
    // (x-switchboard-params), so the server reads them by name and names the stray one.
    expect: invalid("params.bogus: unknown field (parameters are v)"),
  },
  {
    what: "missing param of type any",
    method: "any",
    params: {},
    // XML-RPC too: the proxy sends no positional param, `call` an explicitly named `{}`.
    expect: invalid("params.v: expected any, got nothing"),
  },
  {
    what: "unknown struct field",
    method: "item",
    params: { v: { ...item, extra: 1 } },
    expect: invalid(/^params\.v\.extra: unknown field/),
  },
  {
    what: "wrong type deep inside a struct",
    method: "item",
    params: { v: { ...item, children: [{ name: "c", big: 1.5 }] } },
    expect: invalid("params.v.children[0].big: expected int64, got 1.5"),
  },
  {
    what: "value outside an enumeration",
    method: "color",
    params: { v: "purple" },
    expect: invalid('params.v: expected "red" | "green" | "blue", got "purple"'),
  },
  {
    what: "null where not nullable",
    method: "int",
    params: { v: null },
    expect: invalid("params.v: expected int, got null"),
  },
  {
    what: "not a datetime",
    method: "datetime",
    params: { v: "yesterday" },
    expect: invalid(/^params\.v: expected datetime/),
  },
  {
    what: "method not found",
    method: "nope",
    params: {},
    expect: {
      error: { code: -32601, name: "MethodNotFound", message: "Method not found: Oracle.nope" },
    },
  },
  {
    what: "the caller's deadline passes",
    method: "slow",
    params: { ms: 10_000 },
    options: { timeout: 150 },
    expect: {
      error: { code: -32003, name: "Timeout", message: "Oracle.slow timed out after 150 ms" },
    },
  },
  {
    what: "a deadline passes inside the server",
    method: "relay",
    params: { timeout: 50 },
    expect: {
      // The in-process client's timer and the router's deadline race: either may report it.
      error: {
        code: -32003,
        name: "Timeout",
        message: /^Oracle\.slow (timed out after 50 ms|exceeded its deadline)$/,
      },
    },
  },
  {
    what: "refused by an allow predicate",
    method: "Vault.open",
    params: {},
    expect: {
      error: {
        code: -32001,
        name: "Unauthorized",
        message: "Vault.open needs an authenticated caller",
      },
    },
  },
  {
    what: "refused by an allow predicate, logged in",
    method: "Vault.open",
    params: {},
    as: "guest",
    expect: {
      error: { code: -32002, name: "Forbidden", message: "guest may not call Vault.open" },
    },
  },
  {
    what: "admitted by an allow predicate",
    method: "Vault.open",
    params: {},
    as: "root",
    expect: { result: "gold" },
  },
  {
    what: "the caller reaches the handler",
    method: "caller",
    params: {},
    as: "guest",
    expect: { result: "guest" },
  },
  {
    what: "no caller reaches the handler",
    method: "caller",
    params: {},
    expect: { result: "anonymous" },
  },
];

function without<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  const copy = { ...value };
  delete copy[key];
  return copy;
}

function startServer(log: string[]): Server {
  const server = new Server({ logger: { error: (m) => log.push(m), warn: (m) => log.push(m) } });
  server.register(
    implement(Oracle, {
      int: ({ v }) => v,
      int64: ({ v }) => v,
      float: ({ v }) => v,
      string: ({ v }) => v,
      bool: ({ v }) => v,
      bytes: ({ v }) => v,
      datetime: ({ v }) => v,
      ints: ({ v }) => v,
      floats: ({ v }) => v,
      item: ({ v }) => v,
      sparse: ({ id }) => ({ ...item, id, note: undefined }),
      optional: ({ v }) => v,
      nullable: ({ v }) => v,
      color: ({ v }) => v,
      any: ({ v }) => v,
      loose: ({ v }) => v,
      kinds: ({ v }) => kinds(v),
      ping: () => {},
      protocol: (_, ctx) => ctx.protocol,
      caller: (_, ctx) => ctx.caller?.id ?? "anonymous",
      fail: ({ how }) => {
        if (how === "not-found") throw new NotFound("no widget 7", { id: 7 });
        if (how === "conflict") throw new Conflict("already there");
        if (how === "throw") throw new Error("password=hunter2");
        return "seven" as unknown as number;
      },
      slow: async ({ ms }, ctx) => {
        await wait(ms, ctx.signal);
        return ms;
      },
      relay: ({ timeout }, ctx) =>
        ctx.client.call("Oracle.slow", { ms: 10_000 }, { timeout }) as Promise<number>,
    }),
    implement(Vault, { open: () => "gold" }, { allow: (caller) => caller?.id === "root" }),
  );
  return server;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function settle(promise: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function proxyCall(client: Client, row: Row): Promise<unknown> {
  const [iface, name] = row.method.includes(".")
    ? [Vault, row.method.split(".")[1]]
    : [row.method === "nope" ? Ghost : Oracle, row.method];
  const proxy = client.proxy(iface) as unknown as Record<
    string,
    (params: unknown, options?: CallOptions) => Promise<unknown>
  >;
  return proxy[name](row.params, row.options);
}

function fullName(row: Row): string {
  return row.method.includes(".") ? row.method : `Oracle.${row.method}`;
}

function checkOutcome(got: Outcome, expected: Expected, where: string): void {
  if ("result" in expected) {
    if (!got.ok) {
      const e = got.error as RpcError;
      assert.fail(`${where}: expected a result, got ${e.name} (${e.code}): ${e.message}`);
    }
    assert.deepEqual(got.value, expected.result, where);
    return;
  }
  assert.ok(!got.ok, `${where}: expected ${expected.error.name}, got ${Deno.inspect(got)}`);
  const error = got.error;
  assert.ok(error instanceof RpcError, `${where}: not an RpcError: ${error}`);
  assert.equal(error.code, expected.error.code, `${where}: code`);
  assert.equal(error.name, expected.error.name, `${where}: name`);
  if (typeof expected.error.message === "string") {
    assert.equal(error.message, expected.error.message, `${where}: message`);
  } else {
    assert.match(error.message, expected.error.message, `${where}: message`);
  }
  if (expected.error.data !== undefined) assert.deepEqual(error.data, expected.error.data);
}

Deno.test("one table of calls gives the same results and errors over all three protocols", async (t) => {
  const log: string[] = [];
  const server = startServer(log);
  // Anonymous callers are let in; a bearer token logs in as its user on every protocol
  // (TCP requires a login, hence a second TCP listener for the anonymous clients).
  const login = (token: string) => ({ id: token.replace(/-token$/, "") });
  const gate = new AuthGate([bearerBackend(login)]);
  const http = await server.listenHttp({ port: 0 }, {
    authenticate: httpAuthenticator({ bearer: login, required: false }),
  });
  const tcp = await server.listenTcp({ port: 0 });
  const tcpAuth = await server.listenTcp({ port: 0 }, { auth: gate });
  const clientsOf = (as?: User): Record<Protocol, Client> => {
    const auth = as ? bearerCredentials(`${as}-token`) : undefined;
    return {
      jsonrpc: connect(http.url, { auth }),
      xmlrpc: connect(http.url, { protocol: "xmlrpc", auth }),
      "msgpack-rpc": connect((as ? tcpAuth : tcp).url, { auth, reconnect: false }),
    };
  };
  const anonymous = clientsOf();
  const users = { root: clientsOf("root"), guest: clientsOf("guest") };
  const all = [anonymous, ...Object.values(users)].flatMap((c) => Object.values(c));
  try {
    for (const row of TABLE) {
      await t.step(row.what, async () => {
        // Both forms on all three protocols at once: 6 calls per row.
        const runs = await Promise.all(PROTOCOLS.map(async (protocol) => {
          const client = (row.as ? users[row.as] : anonymous)[protocol];
          const [typed, untyped] = await Promise.all([
            settle(proxyCall(client, row)),
            settle(client.call(fullName(row), row.params, row.options)),
          ]);
          return { protocol, typed, untyped };
        }));
        for (const { protocol, typed, untyped } of runs) {
          const expected = row.differs?.[protocol] ?? row.expect;
          checkOutcome(typed, expected, `${protocol} proxy`);
          if (!("result" in expected) || !row.raw || !(protocol in row.raw)) {
            checkOutcome(untyped, expected, `${protocol} call`);
            continue;
          }
          // A raw form that differs by design must still normalise to the typed result.
          checkOutcome(untyped, { result: row.raw[protocol] }, `${protocol} call (raw)`);
          const def = Oracle.methods[row.method as keyof typeof Oracle.methods];
          const raw = (untyped as { value: unknown }).value;
          // As the proxy does: null on the wire is the absence of an optional result.
          const normalised = raw === null && def.result.kind === "optional"
            ? undefined
            : compile(def.result)(raw, "result");
          assert.deepEqual(normalised, expected.result, `${protocol} call, normalised`);
        }
      });
    }
    // What the unexpected exception said stayed in the server's log.
    assert.ok(log.some((line) => line.includes("password=hunter2")), log.join("\n"));
  } finally {
    await Promise.all(all.map((c) => c.close()));
    await server.close();
  }
});
