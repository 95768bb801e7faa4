/**
 * `switchboard call URL METHOD [PARAMS]` and `switchboard describe URL`.
 *
 * @module
 */

import { isLiveStream, printStream } from "./print_stream.ts";
import { parseCommand, UsageError } from "./args.ts";
import { serverUrl } from "./address.ts";
import { connect } from "../client/connect.ts";
import { loadTransport } from "./transports.ts";
import { timeLimit } from "./time_limit.ts";
import { RpcError } from "../core/errors.ts";
import { reviveTagged, taggingReplacer } from "../core/idl/tagged.ts";
import type { OpenRpcDocument } from "../core/idl/openrpc.ts";

export const CALL_HELP = `Usage: switchboard call URL METHOD [PARAMS_JSON] [options]

Calls METHOD (Interface.method) on the server at URL and prints the result as JSON.
PARAMS_JSON is a JSON array (by position) or object (by name). Dates and bytes are
{"$date": "<ISO 8601>"} and {"$bytes": "<base64>"}, in PARAMS_JSON as in the result
(XML-RPC sends them as <dateTime.iso8601> and <base64>). URL is the endpoint as written:
http://host:port posts to /.

Options:
  --protocol P        jsonrpc (default) or xmlrpc, for http(s) URLs
  --timeout MS        give up after MS milliseconds (default 30000)
  --notify            send as a notification (no result)
  -h, --help          this help
`;

export const DESCRIBE_HELP = `Usage: switchboard describe URL [options]

Lists the interfaces, methods, signatures and docs of the server at URL.

Options:
  --protocol P        jsonrpc (default) or xmlrpc, for http(s) URLs
  --json              print the OpenRPC document instead of a table
  -h, --help          this help
`;

function parseProtocol(value: string | undefined): "jsonrpc" | "xmlrpc" | undefined {
  if (value === undefined || value === "jsonrpc" || value === "xmlrpc") return value;
  throw new UsageError(`--protocol: expected jsonrpc or xmlrpc, got ${JSON.stringify(value)}`);
}

/** Prints a remote error the way a person can act on, and returns the exit code. */
function reportError(error: unknown): number {
  if (error instanceof RpcError) {
    console.error(`error: ${error.name} (${error.code}): ${error.message}`);
    if (error.data !== undefined) console.error(`data: ${JSON.stringify(error.data)}`);
    return 1;
  }
  throw error;
}

/** Runs `call`. */
export async function callCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("call", args, {
    protocol: { type: "string" },
    timeout: { type: "string" },
    notify: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(CALL_HELP);
    return 0;
  }
  const [url, method, paramsText, ...rest] = positionals;
  if (!url || !method || rest.length) {
    throw new UsageError("switchboard call: expected URL METHOD [PARAMS_JSON] (see --help)");
  }
  let params: unknown;
  if (paramsText !== undefined) {
    try {
      params = JSON.parse(paramsText);
    } catch (error) {
      throw new UsageError(
        `switchboard call: PARAMS_JSON is not JSON: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    if (typeof params !== "object" || params === null) {
      throw new UsageError("switchboard call: PARAMS_JSON must be a JSON array or object");
    }
    // The tags `call` prints are read back, so a printed date or bytes can be sent again, and
    // over XML-RPC they travel as <dateTime.iso8601> and <base64>.
    try {
      params = reviveTagged(params);
    } catch (error) {
      throw new UsageError(
        `switchboard call: PARAMS_JSON ${error instanceof Error ? error.message : error}`,
      );
    }
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    throw new UsageError("--timeout: expected a positive number of milliseconds");
  }
  const protocol = parseProtocol(values.protocol);
  await loadTransport(serverUrl("call", url), protocol);
  const limit = timeLimit(url, method, timeout ?? 30_000);
  const client = connect(url, { protocol, ...limit.connect });
  try {
    if (values.notify) {
      await client.notify(method, params);
      return 0;
    }
    const result = await client.call(method, params, { signal: limit.signal, stream: true });
    // A streamed result (over tcp://) prints as NDJSON, item by item.
    if (isLiveStream(result)) await printStream(result);
    else console.log(JSON.stringify(result ?? null, taggingReplacer, 2));
    return 0;
  } catch (error) {
    return reportError(error);
  } finally {
    await client.close();
  }
}

/** Runs `describe`. */
export async function describeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("describe", args, {
    protocol: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(DESCRIBE_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError("switchboard describe: expected URL (see --help)");
  }
  const protocol = parseProtocol(values.protocol);
  await loadTransport(serverUrl("describe", positionals[0]), protocol);
  const limit = timeLimit(positionals[0], "rpc.discover", 30_000);
  const client = connect(positionals[0], { protocol, ...limit.connect });
  try {
    const doc = await client.call("rpc.discover", undefined, {
      signal: limit.signal,
    }) as OpenRpcDocument;
    if (values.json) console.log(JSON.stringify(doc, null, 2));
    else console.log(formatDescription(doc));
    return 0;
  } catch (error) {
    return reportError(error);
  } finally {
    await client.close();
  }
}

function schemaName(schema: Record<string, unknown>): string {
  if (typeof schema.title === "string") return schema.title;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join("|");
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.type === "array") return `${schemaName(schema.items as Record<string, unknown>)}[]`;
  if (schema.type === "object" && schema.additionalProperties) {
    return `map<${schemaName(schema.additionalProperties as Record<string, unknown>)}>`;
  }
  if (Array.isArray(schema.anyOf)) {
    const parts = schema.anyOf as Record<string, unknown>[];
    const formats = parts.map((p) =>
      p.format ?? p.contentEncoding ??
        (p.properties ? Object.keys(p.properties as object)[0] : undefined)
    );
    if (formats.includes("date-time")) return "datetime";
    if (formats.includes("base64")) return "bytes";
    if (schema.description === "64-bit integer") return "int64";
    return parts.map(schemaName).join(" | ");
  }
  if (schema.type === "integer") return "int";
  if (schema.type === "number") return "float";
  if (schema.type === "boolean") return "bool";
  if (typeof schema.type === "string") return schema.type;
  return "any";
}

/** A readable table of an OpenRPC document: one line per method, grouped by interface. */
export function formatDescription(doc: OpenRpcDocument): string {
  const lines: string[] = [];
  let current = "";
  const rows: [string, string, string][] = [];
  for (const m of doc.methods) {
    const iface = m.name.slice(0, m.name.lastIndexOf("."));
    if (iface !== current) {
      rows.push([`${iface}`, "", ""]);
      current = iface;
    }
    const params = m.params.map((p) =>
      `${p.name}${p.required ? "" : "?"}: ${schemaName(p.schema)}`
    );
    const result = schemaName(m.result.schema);
    rows.push([
      `  ${m.name.slice(iface.length + 1)}(${params.join(", ")})${
        result === "null" ? "" : ` -> ${result}`
      }`,
      m["x-public"] ? "public" : "",
      m.summary ?? "",
    ]);
  }
  const width = Math.max(...rows.map((r) => r[0].length), 10);
  for (const [sig, pub, doc_] of rows) {
    lines.push(pub || doc_ ? `${sig.padEnd(width)}  ${pub.padEnd(6)}  ${doc_}`.trimEnd() : sig);
  }
  return lines.join("\n");
}
