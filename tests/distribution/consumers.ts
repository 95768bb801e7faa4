/**
 * Programs a user of the published package writes, as source text: each imports
 * `jsr:@switchboard/rpc@<version>` (and a subpath), calls the server named by its first
 * argument, and prints one JSON line of results.
 *
 * Subpath exports are being introduced; the XML-RPC and TCP programs take the transport
 * from the subpath if it exports it, else from the main module, else through `connect()`
 * (a subpath may plug its transport into `connect()` when imported).
 *
 * @module
 */

/** The calls every program makes, and what they print. */
const CALLS = `
const Calculator = root.defineInterface("Calculator", {
  add: root.method({ params: { a: root.t.int, b: root.t.int }, result: root.t.int }),
});
const results = [await client.proxy(Calculator).add({ a: 2, b: 3 })];
results.push(await client.call("Calculator.subtract", [10, 4]));
for (const [method, params] of [["Calculator.nope", {}], ["Calculator.divide", { a: 1, b: 0 }]]) {
  try {
    results.push(await client.call(method, params));
  } catch (error) {
    results.push(error instanceof root.RpcError ? [error.name, error.code] : String(error));
  }
}
await client.close();
console.log(JSON.stringify(results));
`;

/** What every program prints against the demo server. */
export const EXPECTED: unknown[] = [5, 6, ["MethodNotFound", -32601], ["DivisionByZero", -32000]];

/** JSON-RPC over HTTP with the main module only. */
export function jsonRpcClient(spec: string): string {
  return `import * as root from "${spec}";
const client = root.connect(Deno.args[0]);
${CALLS}`;
}

/** XML-RPC over HTTP through the `./xmlrpc` subpath. */
export function xmlRpcClient(spec: string, subpath: string): string {
  return `import * as root from "${spec}";
import * as sub from "${spec}/${subpath.slice(2)}";
const Transport = sub.HttpXmlRpcTransport ?? root.HttpXmlRpcTransport;
const client = Transport
  ? new root.Client(new Transport(new URL("/RPC2", Deno.args[0]).href))
  : root.connect(Deno.args[0], { protocol: "xmlrpc" });
${CALLS}`;
}

/** msgpack-rpc over TCP through the `./tcp` subpath. */
export function tcpClient(spec: string, subpath: string): string {
  return `import * as root from "${spec}";
import * as sub from "${spec}/${subpath.slice(2)}";
const Transport = sub.TcpTransport ?? root.TcpTransport;
const client = Transport
  ? new root.Client(new Transport(Deno.args[0]))
  : root.connect(Deno.args[0]);
${CALLS}`;
}

/** Imports a subpath and prints the names it exports. */
export function exportsOf(spec: string, subpath: string): string {
  return `import * as sub from "${spec}/${subpath.slice(2)}";
console.log(JSON.stringify(Object.keys(sub)));
`;
}

/** A component module, served over http:, that names Switchboard by its JSR name. */
export function greeterComponent(spec: string): string {
  return `import { defineInterface, implement, method, t } from "${spec}";

export const Greeter = defineInterface("Greeter", {
  greet: method({ params: { name: t.string }, result: t.string }),
});

export default implement(Greeter, { greet: ({ name }) => \`hello \${name}\` });
`;
}
