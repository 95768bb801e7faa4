/**
 * The servers of each suite: Switchboard, the bare Deno ceilings (`bare_http.ts`,
 * `bare_tcp.ts`) and the peers (Node's jayson, json-rpc-2.0, npm xmlrpc, msgpack5rpc,
 * grpc-js; Python's SimpleXMLRPCServer), with the Node peers installed on first use.
 *
 * @module
 */

import type { ServerDef } from "./cells.ts";
import { type Generators, grpcCell, httpCell, tcpCell } from "./generators.ts";
import { deno, has, PEERS } from "./processes.ts";
import { XML_BODIES } from "./workload.ts";
import { BASELINE, SWITCHBOARD } from "./report.ts";

/** The ceiling rows' labels. */
export const BARE_HTTP = "bare Deno.serve (ceiling)";
export const BARE_TCP = "bare Deno TCP + msgpackr (ceiling)";
/** The peers docs/performance.md compares with. */
export const JAYSON = "jayson (Node)";
export const NPM_XMLRPC = "xmlrpc (npm, Node)";
export const MSGPACK5RPC = "msgpack5rpc (Node)";

/** Installs the Node peers (`npm ci`) unless every dependency is there; why not, if not. */
export async function ensurePeers(): Promise<string | undefined> {
  if (!(await has("node")) || !(await has("npm"))) return "n/a (node/npm not installed)";
  const wanted = Object.keys(
    JSON.parse(await Deno.readTextFile(`${PEERS}/package.json`)).dependencies,
  );
  const present = (name: string) => {
    try {
      Deno.statSync(`${PEERS}/node_modules/${name}/package.json`);
      return true;
    } catch {
      return false;
    }
  };
  if (wanted.every(present)) return undefined;
  console.error("installing peers: npm ci --prefix scripts/bench/peers");
  const out = await new Deno.Command("npm", {
    args: ["ci", "--prefix", PEERS, "--no-audit", "--no-fund", "--loglevel=error"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return out.success ? undefined : "n/a (npm ci failed)";
}

/** Each suite's servers, Switchboard first. */
export interface SuiteServers {
  http: ServerDef[];
  xmlrpc: ServerDef[];
  tcp: ServerDef[];
}

/** The servers of every suite; `peersMissing` says why the Node ones cannot run, if so. */
export async function suiteServers(
  g: Generators,
  peersMissing: string | undefined,
): Promise<SuiteServers> {
  const node = (file: string): string[] | string => peersMissing ?? ["node", `${PEERS}/${file}`];
  const python = (await has("python3"))
    ? ["python3", `${PEERS}/xmlrpc_server.py`]
    : "n/a (python3 not installed)";
  const json = httpCell("/rpc", "json", g);
  const xml = httpCell("/RPC2", "xml", g);
  const tcp = tcpCell(g);
  return {
    http: [
      { name: SWITCHBOARD, cmd: deno("switchboard_server.ts"), cell: json },
      { name: BARE_HTTP, ceiling: true, cmd: deno("bare_http.ts"), cell: json },
      { name: JAYSON, cmd: node("jayson_server.js"), cell: json },
      { name: "json-rpc-2.0 (Node http)", cmd: node("jsonrpc2_server.js"), cell: json },
    ],
    xmlrpc: [
      {
        name: SWITCHBOARD,
        cmd: deno("switchboard_server.ts"),
        cell: xml,
        probe: async (ports) => {
          const res = await fetch(`http://127.0.0.1:${ports.http}/RPC2`, {
            method: "POST",
            headers: { "content-type": "text/xml" },
            body: XML_BODIES.add,
          });
          await res.body?.cancel();
          return res.status === 200 ? undefined : "n/a (not built)";
        },
      },
      { name: NPM_XMLRPC, cmd: node("xmlrpc_server.js"), cell: xml },
      { name: "SimpleXMLRPCServer (Python)", cmd: python, cell: xml },
    ],
    tcp: [
      {
        name: SWITCHBOARD,
        cmd: deno("switchboard_server.ts"),
        cell: tcp,
        probe: (ports) => Promise.resolve(ports.tcp ? undefined : "n/a (not built)"),
      },
      { name: BARE_TCP, ceiling: true, cmd: deno("bare_tcp.ts"), cell: tcp },
      { name: MSGPACK5RPC, cmd: node("msgpack5rpc_server.js"), cell: tcp },
      { name: "grpc-js unary (Node) ¹", cmd: node("grpc_server.js"), cell: grpcCell(g) },
    ],
  };
}

/** The servers `--quick` keeps: Switchboard, the ceilings, one peer per protocol. */
export const HEADLINE_SERVERS = new Set([
  SWITCHBOARD,
  BASELINE,
  BARE_HTTP,
  BARE_TCP,
  JAYSON,
  NPM_XMLRPC,
  MSGPACK5RPC,
]);
