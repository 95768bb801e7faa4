/**
 * JSON-RPC 2.0 over HTTP, client side. Uses only `fetch`, so it runs in Deno, Node and
 * browsers.
 *
 * @module
 */

import { decodeResponse, encodeRequest, type JsonRpcId } from "../wire/jsonrpc/codec.ts";
import { jsonParamFloats } from "../wire/jsonrpc/float_text.ts";
import type { Outcome } from "../core/context.ts";
import { errorShape, rpcError } from "../core/errors.ts";
import type { OutgoingCall, Transport } from "../core/client/transport.ts";
import type { AuthCredentials } from "../auth/types.ts";
import { plainReplacer } from "../wire/jsonrpc/plain_values.ts";
import { type HttpEndpoint, httpEndpoint, postRpc } from "./http_post.ts";
import { NDJSON, ndjsonItems } from "./http_ndjson.ts";

/** What a typed proxy's streamed call accepts: NDJSON first, JSON otherwise. */
const NDJSON_ACCEPT = `${NDJSON}, application/json;q=0.9`;

/** Options of HTTP transports. */
export interface HttpTransportOptions {
  /** Extra headers on every request (e.g. `authorization: Bearer …`). */
  headers?: Record<string, string>;
  /** The fetch to use (tests, proxies); defaults to the global one. */
  fetch?: typeof fetch;
  /**
   * Proves who the client is (e.g. `sharedSecretCredentials(secret, id)`): logs in once
   * with the `$/auth.*` handshake and sends the session with every request.
   */
  auth?: AuthCredentials;
  /** Extra PEM CA certificates to trust for `https://` (Deno; ignored with `fetch`). */
  caCerts?: string[];
  /**
   * JSON-RPC: send `Date` and `Uint8Array` params as Switchboard's tags `{"$date"}` /
   * `{"$bytes"}` (default `true`), or, with `false`, as bare ISO 8601 / base64 strings, as
   * third-party servers expect.
   */
  taggedValues?: boolean;
}

/**
 * Posts JSON-RPC requests to one endpoint; what `connect()` uses for `http(s)://` URLs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   Client,
 *   defineInterface,
 *   HttpJsonRpcTransport,
 *   implement,
 *   method,
 *   t,
 * } from "@switchboard/rpc";
 * import { Server } from "@switchboard/rpc/server";
 *
 * const Calc = defineInterface("Calc", {
 *   add: method({ params: { a: t.int, b: t.int }, result: t.int }),
 * });
 * const server = new Server().register(implement(Calc, { add: ({ a, b }) => a + b }));
 * const http = await server.listenHttp({ port: 0 });
 *
 * const endpoint = new URL("/rpc", http.url).href;
 * const transport = new HttpJsonRpcTransport(endpoint, { headers: { "x-team": "docs" } });
 * assert.equal(transport.rpcSystem(), "jsonrpc");
 * const client = new Client(transport);
 * assert.equal(await client.proxy(Calc).add({ a: 2, b: 3 }), 5);
 * await client.close();
 * await server.close();
 * ```
 */
export class HttpJsonRpcTransport implements Transport {
  readonly #endpoint: HttpEndpoint;
  readonly #replacer: typeof plainReplacer | undefined;
  #nextId = 1;

  /** `url` is the endpoint, e.g. `http://127.0.0.1:8080/rpc`. */
  constructor(url: string, options: HttpTransportOptions = {}) {
    this.#endpoint = httpEndpoint(url, { "content-type": "application/json" }, options);
    this.#replacer = options.taggedValues === false ? plainReplacer : undefined;
  }

  #encode(request: OutgoingCall, id?: JsonRpcId): string {
    // A typed call writes whole numbers where it declares t.float as `1.0`, not `1`.
    const params = request.declared
      ? jsonParamFloats(request.declared, request.params)
      : request.params;
    return encodeRequest(request.method, params, id, this.#replacer);
  }

  /** Calls travel as JSON-RPC. */
  rpcSystem(): string {
    return "jsonrpc";
  }

  async #post(body: string, request: OutgoingCall) {
    return await this.#read(await postRpc(this.#endpoint, body, request));
  }

  async #read(response: Response) {
    if (response.status === 204) {
      await response.body?.cancel();
      return undefined;
    }
    const text = await response.text();
    // An empty 200 is how many servers answer a notification (and what Switchboard sends).
    if (text.trim() === "" && response.ok) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw rpcError(
        "Unavailable",
        `${this.#endpoint.url} answered HTTP ${response.status} that is not JSON-RPC: ${
          text.slice(0, 200)
        }`,
      );
    }
  }

  async call(request: OutgoingCall): Promise<Outcome> {
    const id = this.#nextId++;
    if (request.stream) {
      // A Switchboard server answers a streamed result as NDJSON; anything else as usual.
      const body = this.#encode(request, id);
      const response = await postRpc(this.#endpoint, body, request, NDJSON_ACCEPT);
      if (response.headers.get("content-type")?.startsWith(NDJSON) && response.body) {
        return { ok: true, value: ndjsonItems(response.body, request.method) };
      }
      const decoded = decodeResponse(await this.#read(response));
      if (!decoded) {
        throw rpcError("Unavailable", `${this.#endpoint.url} answered no JSON-RPC response`);
      }
      return decoded.outcome;
    }
    const body = await this.#post(this.#encode(request, id), request);
    const decoded = decodeResponse(body);
    if (!decoded) {
      throw rpcError("Unavailable", `${this.#endpoint.url} answered no JSON-RPC response`);
    }
    return decoded.outcome;
  }

  async notify(request: OutgoingCall): Promise<void> {
    await this.#post(this.#encode(request), request);
  }

  async batch(requests: OutgoingCall[]): Promise<Outcome[]> {
    if (requests.length === 0) return [];
    const ids: (JsonRpcId | undefined)[] = requests.map((r) =>
      r.notification ? undefined : this.#nextId++
    );
    const body = `[${requests.map((r, i) => this.#encode(r, ids[i])).join(",")}]`;
    const head = requests[0];
    const reply = await this.#post(body, head);
    const byId = new Map<JsonRpcId, Outcome>();
    let orphan: Outcome | undefined;
    for (const item of Array.isArray(reply) ? reply : reply === undefined ? [] : [reply]) {
      const decoded = decodeResponse(item);
      if (!decoded) continue;
      if (decoded.id === null) orphan = decoded.outcome;
      else byId.set(decoded.id, decoded.outcome);
    }
    return ids.map((id) =>
      id === undefined ? { ok: true, value: undefined } : byId.get(id) ?? orphan ?? {
        ok: false,
        error: errorShape("InternalError", `no response for batch id ${id}`),
      }
    );
  }

  close(): Promise<void> {
    this.#endpoint.close();
    return Promise.resolve();
  }
}
