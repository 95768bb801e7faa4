/**
 * XML-RPC over HTTP, client side: `connect(url, { protocol: "xmlrpc" })`. Uses only
 * `fetch`, so it runs in Deno, Node and browsers. Importing this module plugs it into
 * `connect()`.
 *
 * A typed proxy's params travel by position in the order the IDL declares them, each
 * written by its type (so any XML-RPC server works); `call(method, params)` sends an array
 * as positional params, an object as params by name (said in a header, which a
 * Switchboard server honours; other servers get one struct) and anything else as one param. XML-RPC has no notifications: `notify` sends a call and drops
 * its result. `Client.batch` sends its calls side by side rather than as one
 * `system.multicall`, so each fault keeps its error name and any server works.
 *
 * @module
 */

import {
  decodeMethodResponse,
  encodeMethodCall,
  NAMED_PARAMS_HEADER,
  SWITCHBOARD_CLIENT_HEADER,
  XmlRpcWriteError,
} from "../wire/xmlrpc/codec.ts";
import { XmlRpcReadError } from "../wire/xmlrpc/reader.ts";
import { isNamed, namesOnlyDeclared } from "../wire/xmlrpc/positional.ts";
import type { Outcome } from "../core/context.ts";
import { rpcError } from "../core/errors.ts";
import { registerTransport } from "./connect.ts";
import { ENTRIES } from "../entries.ts";
import type { HttpTransportOptions } from "./http_jsonrpc.ts";
import { type HttpEndpoint, httpEndpoint, postRpc } from "./http_post.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";

/**
 * Posts XML-RPC calls to one endpoint.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Client, defineInterface, implement, method, t } from "@switchboard/rpc";
 * import { HttpXmlRpcTransport } from "@switchboard/rpc/xmlrpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   half: method({ params: { n: t.int }, result: t.float }),
 * });
 * const server = new Server().register(implement(Calc, { half: ({ n }) => n / 2 }));
 * const http = await server.listenHttp({ port: 0 });
 * const client = new Client(new HttpXmlRpcTransport(`${http.url}/RPC2`));
 * assert.equal(await client.proxy(Calc).half({ n: 3 }), 1.5);
 * await client.close();
 * await server.close();
 * ```
 */
export class HttpXmlRpcTransport implements Transport {
  readonly #endpoint: HttpEndpoint;

  /** `url` is the endpoint, e.g. `http://127.0.0.1:8080/RPC2`. */
  constructor(url: string, options: HttpTransportOptions = {}) {
    this.#endpoint = httpEndpoint(url, {
      "content-type": "text/xml; charset=utf-8",
      // Switchboard servers then send faults with the error's name (plain clients get
      // exactly faultCode and faultString).
      [SWITCHBOARD_CLIENT_HEADER]: "1",
    }, options);
  }

  /** Sends a call and resolves with its outcome (a fault is an error outcome). */
  /** Calls travel as XML-RPC. */
  rpcSystem(): string {
    return "xmlrpc";
  }

  async call(request: OutgoingCall): Promise<Outcome> {
    let body: string;
    try {
      body = encodeMethodCall(request.method, request.params, request.declared);
    } catch (error) {
      if (error instanceof XmlRpcWriteError) {
        throw rpcError("InvalidParams", `${request.method}: ${error.message}`);
      }
      throw error;
    }
    // Untyped params by name: said so explicitly (a Switchboard server reads them by name;
    // others see one struct param, as ever).
    const byName = isNamed(request.params) &&
      !(request.declared && namesOnlyDeclared(request.params, request.declared));
    const endpoint = byName
      ? {
        ...this.#endpoint,
        headers: { ...this.#endpoint.headers, [NAMED_PARAMS_HEADER]: "named" },
      }
      : this.#endpoint;
    const response = await postRpc(endpoint, body, request);
    const text = await response.text();
    try {
      return decodeMethodResponse(text);
    } catch (error) {
      if (!(error instanceof XmlRpcReadError)) throw error;
      throw rpcError(
        "Unavailable",
        `${this.#endpoint.url} answered HTTP ${response.status} that is not an XML-RPC response (${error.message}): ${
          text.slice(0, 200)
        }`,
      );
    }
  }

  /** XML-RPC has no notifications: sends the call and ignores its result. */
  async notify(request: OutgoingCall): Promise<void> {
    await this.call(request);
  }

  /** Releases the HTTP client trusting `caCerts`, if any: every call is one request. */
  close(): Promise<void> {
    this.#endpoint.close();
    return Promise.resolve();
  }
}

for (const key of ENTRIES["./xmlrpc"].schemes) {
  registerTransport(
    key,
    (url, options) => new HttpXmlRpcTransport(url.href, options as HttpTransportOptions),
  );
}
