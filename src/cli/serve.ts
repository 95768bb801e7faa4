/**
 * `switchboard serve`: load components (or the demo) and listen.
 *
 * @module
 */

import { parseCommand, parseHostPort, UsageError } from "./args.ts";
import { Server } from "../server/server.ts";
import { demoComponents } from "../demo/mod.ts";
import { componentUrl, loadComponent } from "../host/load.ts";
import type { Implementation } from "../router/implement.ts";

export const SERVE_HELP = `Usage: switchboard serve [options]

Serves components over JSON-RPC and XML-RPC (HTTP). With no --component, serves the
built-in demo (Calculator, Echo).

Options:
  --component URL     a component module (file path, file: or https: URL); repeatable
  --http HOST:PORT    HTTP listener (default 127.0.0.1:8080; "off" to disable)
  --max-body BYTES    largest accepted request body (default 1048576)
  --debug             send internal error details to callers
  -h, --help          this help
`;

/** Runs `serve` until SIGINT/SIGTERM. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("serve", args, {
    component: { type: "string", multiple: true },
    http: { type: "string", default: "127.0.0.1:8080" },
    "max-body": { type: "string" },
    debug: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  if (positionals.length) {
    throw new UsageError(`switchboard serve: unexpected argument ${positionals[0]} (see --help)`);
  }
  const maxBody = values["max-body"] === undefined ? undefined : Number(values["max-body"]);
  if (maxBody !== undefined && !(Number.isInteger(maxBody) && maxBody > 0)) {
    throw new UsageError(`--max-body: expected a positive number of bytes`);
  }
  const http = parseHostPort("http", values.http!);

  const server = new Server({ debug: values.debug });
  let impls: Implementation[] = demoComponents;
  if (values.component?.length) {
    impls = [];
    for (const spec of values.component) {
      const url = componentUrl(spec);
      const loaded = await loadComponent(url);
      for (const impl of loaded) {
        console.log(
          `loaded ${impl.interface.name} (${
            Object.keys(impl.interface.methods).length
          } methods) from ${url.href}`,
        );
      }
      impls.push(...loaded);
    }
  }
  server.register(...impls);
  if (!http) throw new UsageError("switchboard serve: every listener is off; nothing to serve");
  const listener = await server.listenHttp(http, { maxBodyBytes: maxBody });
  console.log(`listening on ${listener.url} (JSON-RPC: POST /rpc, XML-RPC: POST /RPC2)`);
  console.log(`serving ${impls.map((i) => i.interface.name).join(", ")}`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      console.log("shutting down: finishing in-flight calls");
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
