/**
 * The server under component fuzz, run as a child process so that a crash is seen as an
 * exit: the demo components inline and scripts/fuzz/forger_component.ts in a worker (or,
 * with `process`, a component process), placed as `switchboard serve` places them, on
 * HTTP at 127.0.0.1 port 0. Prints one line of JSON with its address, then serves until
 * stdin closes. Logged errors go to stderr, one line each.
 *
 * Usage: deno run -A scripts/fuzz/component_server.ts [worker|process]
 *
 * @module
 */

import { Server } from "../../server.ts";
import { demoComponents } from "../../src/demo/mod.ts";
import { loadComponents } from "../../deploy.ts";

const isolate = Deno.args[0] === "process" ? "process" : "worker";
const oneLine = (m: string) => m.replaceAll("\n", " | ").slice(0, 2000);
const logger = {
  error: (m: string) => console.error(`ERROR ${oneLine(m)}`),
  warn: (m: string) => console.error(`WARN ${oneLine(m)}`),
};
const server = new Server({ logger });
const here = new URL(".", import.meta.url);
const placed = await loadComponents([{
  url: new URL("./forger_component.ts", here).href,
  isolate,
  // The worker reads the component's own modules; nothing else.
  permissions: { read: [here.pathname] },
  deadline: 10_000,
}], { client: () => server.router.client, logger });
server.register(...demoComponents, ...placed.implementations);
const http = await server.listenHttp({ hostname: "127.0.0.1", port: 0 });
console.log(JSON.stringify({ http: http.url, tcpPort: 0, amqp: null, pid: Deno.pid }));

// Serve until the parent closes stdin (or dies).
for await (const _ of Deno.stdin.readable) {
  // input is ignored
}
await Promise.race([
  Promise.all([server.close(), placed.close()]),
  new Promise((r) => setTimeout(r, 2000)),
]);
Deno.exit(0);
