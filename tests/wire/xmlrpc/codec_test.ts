// The XML-RPC codec: every type both ways, IDL-typed results, faults from the error
// model, params by name, multicall, and hostile or broken documents refused as faults.

import assert from "node:assert/strict";
import {
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  faultError,
  handleXmlRpc,
  readMethodCall,
  readMethodResponse,
  XmlRpcReadError,
  XmlRpcWriteError,
} from "../../../src/wire/xmlrpc/codec.ts";
import { Server } from "../../../server.ts";
import { t } from "../../../mod.ts";
import { fromPositional, toPositional } from "../../../src/wire/xmlrpc/positional.ts";
import types from "../../interop/xmlrpc_types_component.ts";

const call = (method: string, params: string[] = []) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${
    params.map((p) => `<param><value>${p}</value></param>`).join("")
  }</params></methodCall>`;

function readError(text: string): XmlRpcReadError {
  try {
    readMethodCall(text);
  } catch (error) {
    assert.ok(error instanceof XmlRpcReadError, `expected XmlRpcReadError, got ${error}`);
    return error;
  }
  assert.fail(`accepted: ${text.slice(0, 200)}`);
}

Deno.test("reads every XML-RPC type", () => {
  const { method, params } = readMethodCall(call("T.m", [
    "<i4>-7</i4>",
    "<int>+42</int>",
    "<i8>9007199254740993</i8>",
    "<ex:i8>12</ex:i8>",
    "<double>-1.5</double>",
    "<double>1e3</double>",
    "<boolean>1</boolean>",
    "<boolean>0</boolean>",
    "<string>a &lt;b&gt; &amp; &#x263A; <![CDATA[<raw>]]></string>",
    " untyped  ",
    "",
    "<string/>",
    "<dateTime.iso8601>19980717T14:08:55</dateTime.iso8601>",
    "<dateTime.iso8601>1998-07-17T14:08:55.250+02:00</dateTime.iso8601>",
    "<base64>AAEC/w==</base64>",
    "<nil/>",
    "<ex:nil/>",
    "<array><data><value><int>1</int></value><value>x</value></data></array>",
    "<array><data/></array>",
    "<struct><member><name>a b</name><value><int>1</int></value></member>" +
    "<member><name>n</name><value><struct/></value></member></struct>",
  ]));
  assert.equal(method, "T.m");
  assert.deepEqual(params, [
    -7,
    42,
    9007199254740993n,
    12,
    -1.5,
    1000,
    true,
    false,
    "a <b> & \u263A <raw>",
    " untyped  ",
    "",
    "",
    new Date("1998-07-17T14:08:55Z"),
    new Date("1998-07-17T12:08:55.250Z"),
    new Uint8Array([0, 1, 2, 255]),
    null,
    null,
    [1, "x"],
    [],
    { "a b": 1, n: {} },
  ]);
});

Deno.test("tolerates pretty-printed documents (as Python's client sends them)", () => {
  const text = `<?xml version='1.0'?>
<methodCall>
<methodName>Types.add</methodName>
<params>
<param>
<value><int>1</int></value>
</param>
<param>
<value><array><data>
<value><string>x</string></value>
</data></array></value>
</param>
</params>
</methodCall>
`;
  assert.deepEqual(readMethodCall(text), { method: "Types.add", params: [1, ["x"]] });
});

Deno.test("round-trips every JavaScript value the client sends", () => {
  const values = [
    0,
    -(2 ** 31),
    2 ** 31 - 1,
    2 ** 40, // beyond 32 bits: travels as a double, still an integer
    0.1,
    true,
    "tab\tnl\ncr\r & <tags> ]]> \u{1F600}",
    "",
    null,
    new Date("2024-02-29T23:59:59Z"),
    new Uint8Array([0, 255, 128]),
    [1, [2, [3, []]], { k: "v" }],
    JSON.parse('{"nested":{"list":[null,false]},"__proto__":1,"":"empty name"}'),
    2n ** 62n,
  ];
  const text = encodeMethodCall("X.y", values);
  assert.match(text, /<double>1099511627776<\/double>/);
  assert.match(text, /<i8>4611686018427387904<\/i8>/);
  const { params } = readMethodCall(text);
  assert.deepEqual(params, values);
  // A member named __proto__ is a plain property, never the prototype.
  const struct = params[12] as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(struct), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(struct, "__proto__")?.value, 1);
});

Deno.test("writes dates in XML-RPC's own form, UTC, whole seconds", () => {
  const text = encodeMethodCall("X.y", [new Date("2001-02-03T04:05:06.789Z")]);
  assert.match(text, /<dateTime.iso8601>20010203T04:05:06<\/dateTime.iso8601>/);
  assert.throws(() => encodeMethodCall("X.y", [new Date(NaN)]), XmlRpcWriteError);
  assert.throws(() => encodeMethodCall("X.y", [new Date("+010000-01-01")]), XmlRpcWriteError);
});

Deno.test("refuses values XML cannot carry, saying where", () => {
  assert.throws(() => encodeMethodCall("X.y", [1, { a: [NaN] }]), /params\[1\]\.a\[0\]: NaN/);
  assert.throws(() => encodeMethodCall("X.y", ["nul\0"]), /U\+0000, which XML cannot carry/);
  assert.throws(() => encodeMethodCall("X.y", ["\uD800"]), /lone surrogate/);
  assert.throws(() => encodeMethodCall("X.y", [() => 1]), /a function cannot travel/);
  assert.throws(() => encodeMethodCall("X.y", [2n ** 64n]), /does not fit 64 bits/);
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => encodeMethodCall("X.y", [cycle]), /deeper than 64 levels/);
});

Deno.test("types results by the IDL: int vs double vs i8", () => {
  assert.match(encodeMethodResponse(3, t.float), /<double>3<\/double>/);
  assert.match(encodeMethodResponse(3, t.int), /<int>3<\/int>/);
  assert.match(encodeMethodResponse(3), /<int>3<\/int>/);
  assert.match(encodeMethodResponse(3.5), /<double>3.5<\/double>/);
  assert.match(encodeMethodResponse(2 ** 40, t.int64), /<i8>1099511627776<\/i8>/);
  assert.match(encodeMethodResponse(2n ** 63n - 1n, t.int64), /<i8>9223372036854775807<\/i8>/);
  assert.throws(
    () => encodeMethodResponse(2 ** 40, t.int),
    /result: 1099511627776 does not fit XML-RPC's 32-bit <int> \(declare the type t\.int64/,
  );
  const Point = t.struct("Point", { x: t.float, y: t.float, label: t.optional(t.string) });
  const text = encodeMethodResponse(
    { points: [{ x: 1, y: 2 }], id: 2 ** 40 },
    t.struct("Shape", { points: t.array(Point), id: t.int64 }),
  );
  assert.match(text, /<name>x<\/name><value><double>1<\/double>/);
  assert.match(text, /<name>id<\/name><value><i8>1099511627776<\/i8>/);
  assert.match(encodeMethodResponse(null, t.nullable(t.float)), /<value><nil\/><\/value>/);
  assert.match(
    encodeMethodResponse({ a: 1 }, t.map(t.float)),
    /<name>a<\/name><value><double>1<\/double>/,
  );
});

Deno.test("faults carry the error model: code, message, and a name the code does not imply", () => {
  const protocol = encodeFault({ code: -32601, name: "MethodNotFound", message: "no X.y" });
  assert.equal(
    protocol,
    '<?xml version="1.0"?>\n<methodResponse><fault><value><struct>' +
      "<member><name>faultCode</name><value><int>-32601</int></value></member>" +
      "<member><name>faultString</name><value><string>no X.y</string></value></member>" +
      "</struct></value></fault></methodResponse>",
  );
  const app = { code: -32000, name: "NotFound", message: "no such <thing>", data: { id: 4 } };
  // A Switchboard client (named): name and data as members of their own.
  assert.deepEqual(decodeMethodResponse(encodeFault(app, true)), { ok: false, error: app });
  // A plain client: exactly faultCode and faultString (Ruby refuses a third member).
  assert.equal(
    encodeFault(app),
    '<?xml version="1.0"?>\n<methodResponse><fault><value><struct>' +
      "<member><name>faultCode</name><value><int>-32000</int></value></member>" +
      "<member><name>faultString</name><value><string>NotFound: no such &lt;thing&gt;</string>" +
      "</value></member></struct></value></fault></methodResponse>",
  );
  // data XML-RPC cannot carry is dropped, the fault still goes
  const lossy = decodeMethodResponse(encodeFault({ ...app, data: { x: NaN } }, true));
  assert.deepEqual(lossy, {
    ok: false,
    error: { code: -32000, name: "NotFound", message: "no such <thing>" },
  });
  // A foreign server's fault: no name, so the code's name or RpcError
  assert.deepEqual(faultError({ faultCode: 4, faultString: "Too many params" }), {
    code: 4,
    name: "RpcError",
    message: "Too many params",
  });
});

Deno.test("reads responses, and refuses what is not one", () => {
  assert.deepEqual(readMethodResponse(encodeMethodResponse([1, "a"])), {
    ok: true,
    value: [1, "a"],
  });
  for (
    const bad of [
      "<methodResponse/>",
      "<methodResponse><params></params></methodResponse>",
      "<methodCall><methodName>x</methodName></methodCall>",
      "<methodResponse><params><param><value>1</value></param><param><value>2</value>" +
      "</param></params></methodResponse>",
      "<methodResponse><fault><value>1</value></fault><params/></methodResponse>",
      "HTTP/1.1 500",
    ]
  ) {
    assert.throws(() => readMethodResponse(bad), XmlRpcReadError, bad);
  }
});

Deno.test("refuses DOCTYPEs, entity bombs and external entities without expanding them", () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>x</methodName><params><param><value>&lol9;</value></param></params></methodCall>`;
  const xxe = `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>&xxe;</methodName></methodCall>`;
  const plain = `<!DOCTYPE methodCall><methodCall><methodName>x</methodName></methodCall>`;
  for (const text of [laughs, xxe, plain]) {
    const error = readError(text);
    assert.equal(error.code, -32600);
    assert.match(error.message, /DOCTYPE declarations are refused/);
  }
  // An entity never declared (the bomb without its DTD) is simply not well-formed.
  const undeclared = readError(call("x", ["&lol9;"]));
  assert.equal(undeclared.code, -32700);
  assert.match(undeclared.message, /undefined entity/);
});

Deno.test("refuses values nested deeper than 64 levels", () => {
  const nest = (n: number) =>
    "<array><data><value>".repeat(n) + "1" + "</value></data></array>".repeat(n);
  assert.ok(readMethodCall(call("x", [nest(63)])));
  const error = readError(call("x", [nest(64)]));
  assert.equal(error.code, -32600);
  assert.match(error.message, /values nest deeper than 64 levels/);
  // A deep pile of elements XML-RPC does not define fails at the first one.
  const junk = readError(call("x", ["<a>".repeat(100_000)]));
  assert.match(junk.message, /params\[0\]: unexpected <a> in <value>/);
});

Deno.test("refuses truncated, garbage and non-XML-RPC documents, saying what and where", () => {
  const cases: [string, -32700 | -32600, RegExp][] = [
    ["", -32700, /root element/],
    ["garbage", -32700, /not well-formed XML/],
    ['{"jsonrpc":"2.0"}', -32700, /not well-formed XML/],
    [call("x", ["<int>1</int>"]).slice(0, -20), -32700, /unclosed tag/],
    ["<methodCall><methodName>x</methodName></methodCal>", -32700, /not well-formed/],
    ["<methodResponse/>", -32600, /expected <methodCall>, got <methodResponse>/],
    ["<methodCall><params/></methodCall>", -32600, /non-empty <methodName>/],
    [
      "<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>",
      -32600,
      /one <methodName>/,
    ],
    [call("x", ["<int>12abc</int>"]), -32600, /params\[0\]: <int> holds "12abc", not an integer/],
    [call("x", ["<int>99999999999999999999</int>"]), -32600, /does not fit 32 bits/],
    [call("x", ["<i8>99999999999999999999</i8>"]), -32600, /does not fit 64 bits/],
    [call("x", ["<double>NaN</double>"]), -32600, /not a finite number/],
    [call("x", ["<double>1e999</double>"]), -32600, /out of range/],
    [call("x", ["<boolean>yes</boolean>"]), -32600, /not 0 or 1/],
    [call("x", ["<dateTime.iso8601>tomorrow</dateTime.iso8601>"]), -32600, /not a date/],
    [
      call("x", ["<dateTime.iso8601>20240230T00:00:00</dateTime.iso8601>"]),
      -32600,
      /not a valid date/,
    ],
    [call("x", ["<base64>!!!</base64>"]), -32600, /does not hold base64/],
    [call("x", ["<nil>x</nil>"]), -32600, /must be empty/],
    [call("x", ["<int>1</int><int>2</int>"]), -32600, /a <value> holds one value/],
    [call("x", ["x<int>1</int>"]), -32600, /text beside a typed value/],
    [call("x", ["<array><value>1</value></array>"]), -32600, /unexpected <value> in <array>/],
    [call("x", ["<array/>"]), -32600, /needs a <data>/],
    [call("x", ["<struct><member><value>1</value></member></struct>"]), -32600, /needs a <name>/],
    [
      call("x", [
        "<struct><member><name>a</name><value>1</value></member><member><name>a</name><value>2</value></member></struct>",
      ]),
      -32600,
      /duplicate member "a"/,
    ],
    [
      call("x", ["<array><data><value>1</value>oops</data></array>"]),
      -32600,
      /unexpected text in <data>/,
    ],
  ];
  for (const [text, code, message] of cases) {
    const error = readError(text);
    assert.equal(error.code, code, text);
    assert.match(error.message, message, text);
  }
});

Deno.test("a document that fails leaves nothing behind for the next one", () => {
  const good = call("Calc.add", [
    "<int>2</int>",
    "<struct><member><name>k</name><value>v</value></member></struct>",
  ]);
  const expected = { method: "Calc.add", params: [2, { k: "v" }] };
  const broken = [
    call("x", ["<array><data><value>1</value>"]).slice(0, -30), // cut mid-way
    call("x", ["<int>1</int><int>2</int>"]), // refused by the reader mid-document
    "<methodCall><methodName>x</methodName></methodCal>", // refused by the parser
    "<!DOCTYPE x><methodCall/>",
  ];
  const badLine = "<methodCall>\n<methodName>x</methodName>\n</methodCal>";
  const firstError = readError(badLine).message;
  for (const text of broken) {
    readError(text);
    assert.deepEqual(readMethodCall(good), expected);
    readError(text);
    // Positions count from the start of each document, not from the last one's.
    assert.equal(readError(badLine).message, firstError);
  }
  assert.match(firstError, /3:/);
});

Deno.test("params are positional at both ends, in declared order", () => {
  const fields = { a: t.int, b: t.optional(t.float), c: t.optional(t.string) };
  // Client: named params by position; a gap is <nil/>, trailing absent ones are left out.
  assert.deepEqual(toPositional({ c: "x", a: 1 }, fields).values, [1, null, "x"]);
  assert.deepEqual(toPositional({ a: 1, b: undefined }, fields).values, [1]);
  assert.deepEqual(toPositional({}, fields).values, []);
  assert.deepEqual(toPositional({ a: 1, b: 3 }, fields).types, [t.int, fields.b]);
  assert.match(
    encodeMethodCall("M.m", { a: 1, b: 3 }, fields),
    /<int>1<\/int>.*<double>3<\/double>/,
  );
  // Server: <nil/> at an optional position is absent; a lone struct stays one param.
  assert.deepEqual(fromPositional([1, null, "x"], fields), [1, undefined, "x"]);
  const nullable = { v: t.optional(t.nullable(t.int)) };
  assert.deepEqual(fromPositional([null], nullable), [null]);
  const anyFirst = { v: t.any };
  assert.deepEqual(fromPositional([{ v: 1 }], anyFirst), [{ v: 1 }]);
});

Deno.test("handleXmlRpc: types results, maps errors to faults, never throws on bad input", async () => {
  const server = new Server().register(types);
  const router = server.router;
  const run = (text: string) =>
    handleXmlRpc(
      text,
      (c) => {
        assert.equal(c.protocol, "xmlrpc");
        return router.dispatch(c);
      },
      {},
      router,
    );
  assert.match(await run(call("Types.half", ["<int>6</int>"])), /<double>3<\/double>/);
  assert.match(await run(call("Types.big64")), /<i8>4611686018427387905<\/i8>/);
  assert.match(await run(call("Types.add", ["<int>2</int>", "<int>3</int>"])), /<int>5<\/int>/);
  // One struct is one param, even when its members are named like the params.
  assert.match(
    await run(
      call("Types.add", [
        "<struct><member><name>a</name><value><int>2</int></value></member><member><name>b</name><value><int>3</int></value></member></struct>",
      ]),
    ),
    /params\.a: expected int, got an object/,
  );
  const faults: [string, number, RegExp][] = [
    [
      call("Types.tooBig"),
      -32603,
      /the result of Types.tooBig cannot travel over XML-RPC: result: 1099511627776 does not fit/,
    ],
    [call("Types.fail", ["<int>42</int>"]), -32000, /no such thing: 42/],
    [call("Types.nope"), -32601, /Method not found: Types.nope/],
    [
      call("Types.add", ["<string>1</string>", "<int>2</int>"]),
      -32602,
      /params.a: expected int, got "1"/,
    ],
    [
      call("Types.add", ["<int>1</int>", "<int>2</int>", "<int>3</int>"]),
      -32602,
      /at most 2 positional/,
    ],
    ["<<<", -32700, /Parse error: not well-formed XML/],
    [call("Types.add", ["<foo/>"]), -32600, /Invalid Request: params\[0\]: unexpected <foo>/],
  ];
  for (const [text, code, message] of faults) {
    const outcome = decodeMethodResponse(await run(text));
    assert.equal(outcome.ok, false, text);
    if (outcome.ok) continue;
    assert.equal(outcome.error.code, code, text);
    assert.match(outcome.error.message, message, text);
  }
  // A plain client gets exactly faultCode and faultString, the name in the string.
  const plain = await run(call("Types.fail", ["<int>1</int>"]));
  assert.doesNotMatch(plain, /faultName/);
  assert.deepEqual(decodeMethodResponse(plain), {
    ok: false,
    error: { code: -32000, name: "ApplicationError", message: "NotFound: no such thing: 1" },
  });
  // A Switchboard client (x-switchboard-client) gets the name as its own member.
  const named = decodeMethodResponse(
    await handleXmlRpc(
      call("Types.fail", ["<int>1</int>"]),
      (c) => router.dispatch(c),
      {},
      router,
      {
        namedFaults: true,
      },
    ),
  );
  assert.deepEqual(named, {
    ok: false,
    error: { code: -32000, name: "NotFound", message: "no such thing: 1" },
  });
});

Deno.test("system.multicall: [value] or a fault struct per call, each typed by its method", async () => {
  const server = new Server().register(types);
  const router = server.router;
  const sub = (name: string, params: string) =>
    `<value><struct><member><name>methodName</name><value>${name}</value></member>` +
    `<member><name>params</name><value><array><data>${params}</data></array></value></member>` +
    `</struct></value>`;
  const text = call("system.multicall", [
    `<array><data>${
      [
        sub("Types.half", "<value><int>4</int></value>"),
        sub("Types.fail", "<value><int>7</int></value>"),
        sub("Types.tooBig", ""),
        sub("Types.add", "<value><int>1</int></value><value><int>2</int></value>"),
        sub("system.multicall", "<value><array><data/></array></value>"),
      ].join("")
    }</data></array>`,
  ]);
  const reply = await handleXmlRpc(text, (c) => router.dispatch(c), {}, router);
  assert.match(reply, /<array><data><value><double>2<\/double><\/value><\/data><\/array>/);
  const outcome = decodeMethodResponse(reply);
  assert.ok(outcome.ok);
  const [half, fail, tooBig, add, nested] = outcome.value as unknown[];
  assert.deepEqual(half, [2]);
  // The fault its call alone gets: the name leads the message for a plain client.
  assert.deepEqual(fail, { faultCode: -32000, faultString: "NotFound: no such thing: 7" });
  assert.equal((tooBig as { faultCode: number }).faultCode, -32603);
  assert.match((tooBig as { faultString: string }).faultString, /cannot travel over XML-RPC/);
  assert.deepEqual(add, [3]);
  assert.deepEqual(nested, {
    faultCode: -32600,
    faultString: "Invalid Request: calls[4]: system.multicall may not nest",
  });
});
