/**
 * The server under fuzz, run as a child process so that a crash is seen as an exit: the
 * demo components on HTTP (JSON-RPC, XML-RPC) and TCP (msgpack-rpc) at 127.0.0.1 port 0,
 * and AMQP when given a broker URL. Prints one line of JSON with its addresses, then
 * serves until stdin closes. Logged errors go to stderr, one line each.
 *
 * Usage: deno run -A scripts/fuzz/server.ts [amqp-url amqp-prefix]
 *
 * @module
 */

import { Server } from "../../server.ts";
import { demoComponents } from "../../src/demo/mod.ts";

const [amqpUrl, prefix] = Deno.args;
const oneLine = (m: string) => m.replaceAll("\n", " | ").slice(0, 2000);
const server = new Server({
  logger: {
    error: (m) => console.error(`ERROR ${oneLine(m)}`),
    warn: (m) => console.error(`WARN ${oneLine(m)}`),
  },
});
server.register(...demoComponents);
const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
const tcp = await server.listenTcp({ hostname: "127.0.0.1", port: 0 });
let amqp: string | null = null;
if (amqpUrl) {
  await server.listenAmqp(amqpUrl, { prefix, reconnect: false });
  amqp = amqpUrl;
}
console.log(JSON.stringify({ http: http.url, tcpPort: tcp.port, amqp, pid: Deno.pid }));

// Serve until the parent closes stdin (or dies).
for await (const _ of Deno.stdin.readable) {
  // input is ignored
}
await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]);
Deno.exit(0);
