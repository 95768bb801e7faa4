/**
 * The client side of HTTP authentication for every HTTP client transport (JSON-RPC,
 * XML-RPC): a `fetch` wrapper that logs in once with `$/auth.hello` / `$/auth.login`,
 * sends the session token on each request, and logs in again when the server answers
 * 401 (the session expired or the server restarted). Transports only swap their `fetch`.
 *
 * @module
 */

import type { AuthCredentials } from "../auth/types.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "../auth/types.ts";
import { SESSION_SCHEME, unauthorizedResponse } from "../wire/http.ts";
import { ErrorCode } from "../core/errors.ts";

/**
 * A session (with when to renew it), or the response refusing the login (returned to the
 * transport as is).
 */
type Login = { session: string | undefined; renewAt?: number } | { refused: Response };

/** A session is renewed once this share of its lifetime has passed. */
const RENEW_AFTER = 0.8;

async function post(
  base: typeof fetch,
  url: string,
  method: string,
  params: unknown,
  signal: AbortSignal | null | undefined,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const response = await base(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal,
  });
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return { status: response.status, body: typeof body === "object" ? body : undefined };
  } catch {
    return { status: response.status, body: undefined };
  }
}

function errorOf(body: Record<string, unknown> | undefined): { code?: unknown; message?: unknown } {
  const error = body?.error;
  return typeof error === "object" && error !== null ? error : {};
}

/**
 * Wraps `fetch` so requests carry a session proved with `credentials`. The handshake is
 * posted as JSON-RPC to the same URL as the request; concurrent requests share one login.
 * A server without the handshake (`$/auth.hello` not found) is called without a session.
 * Bearer credentials skip the handshake: they become `Authorization: Bearer <token>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   authenticatedFetch,
 *   Client,
 *   defineInterface,
 *   HttpJsonRpcTransport,
 *   implement,
 *   method,
 *   sharedSecretCredentials,
 *   t,
 * } from "@switchboard/rpc";
 * import { AuthGate, httpAuthenticator, Server, sharedSecretBackend } from "@switchboard/rpc/server";
 *
 * const Echo = defineInterface("Echo", {
 *   echo: method({ params: { text: t.string }, result: t.string }),
 * });
 * const server = new Server().register(implement(Echo, { echo: ({ text }) => text }));
 * const gate = new AuthGate([sharedSecretBackend("correct horse")]);
 * const http = await server.listenHttp({ port: 0 }, { authenticate: httpAuthenticator({ gate }) });
 *
 * const request = () => ({
 *   method: "POST",
 *   headers: { "content-type": "application/json" },
 *   body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Echo.echo", params: ["hi"] }),
 * });
 * const refused = await fetch(http.url, request());
 * assert.equal(refused.status, 401);
 * await refused.body?.cancel();
 *
 * const fetchAsWorker = authenticatedFetch(fetch, sharedSecretCredentials("correct horse", "w1"));
 * const answer = await fetchAsWorker(http.url, request());
 * assert.deepEqual(await answer.json(), { jsonrpc: "2.0", id: 1, result: "hi" });
 *
 * const client = new Client(new HttpJsonRpcTransport(http.url, { fetch: fetchAsWorker }));
 * assert.equal(await client.proxy(Echo).echo({ text: "again" }), "again");
 * await client.close();
 * await server.close();
 * ```
 */
export function authenticatedFetch(
  base: typeof fetch,
  credentials: AuthCredentials,
): typeof fetch {
  let login: Promise<Login> | undefined;

  const logIn = async (url: string, xml: boolean, signal?: AbortSignal | null): Promise<Login> => {
    const hello = await post(base, url, AUTH_HELLO, undefined, signal);
    const result = hello.body?.result as { nonce?: unknown; schemes?: unknown } | undefined;
    if (typeof result?.nonce !== "string") {
      const error = errorOf(hello.body);
      if (error.code === ErrorCode.MethodNotFound) return { session: undefined };
      return {
        refused: unauthorizedResponse(
          xml,
          `${url} did not answer the ${AUTH_HELLO} handshake (HTTP ${hello.status}${
            typeof error.message === "string" ? `: ${error.message}` : ""
          })`,
        ),
      };
    }
    if (Array.isArray(result.schemes) && !result.schemes.includes(credentials.scheme)) {
      return {
        refused: unauthorizedResponse(
          xml,
          `the server does not accept the ${credentials.scheme} scheme (it accepts ${
            result.schemes.join(", ")
          })`,
        ),
      };
    }
    const proof = await credentials.prove(result.nonce);
    const reply = await post(
      base,
      url,
      AUTH_LOGIN,
      { scheme: credentials.scheme, proof, nonce: result.nonce },
      signal,
    );
    const granted = reply.body?.result as { session?: unknown; expiresIn?: unknown } | undefined;
    const session = granted?.session;
    if (typeof session === "string") {
      const ttl = typeof granted?.expiresIn === "number" ? granted.expiresIn : undefined;
      return { session, ...(ttl ? { renewAt: Date.now() + ttl * RENEW_AFTER } : {}) };
    }
    const message = errorOf(reply.body).message;
    return {
      refused: unauthorizedResponse(
        xml,
        typeof message === "string"
          ? message.replace(/^Unauthorized: /, "")
          : `login refused (HTTP ${reply.status})`,
      ),
    };
  };

  let renewAt = Infinity;
  const session = (url: string, xml: boolean, signal?: AbortSignal | null) => {
    // Log in again before the session ends, so no request meets an expired one.
    if (login && Date.now() >= renewAt) {
      login = undefined;
      renewAt = Infinity;
    }
    if (!login) {
      const pending = logIn(url, xml, signal);
      login = pending;
      // A refused or failed login is not cached: the next request tries again.
      pending.then((l) => {
        if ("refused" in l && login === pending) login = undefined;
        else if ("renewAt" in l && l.renewAt !== undefined && login === pending) {
          renewAt = l.renewAt;
        }
      }, () => {
        if (login === pending) login = undefined;
      });
    }
    return login;
  };

  // Over HTTP a bearer token needs no handshake: it is the standard header on each request.
  if (credentials.scheme === "bearer") {
    return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const { token } = await credentials.prove("");
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
      headers.set("authorization", `Bearer ${token}`);
      return base(input, { ...init, headers });
    };
  }

  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = new Headers(input instanceof Request ? input.headers : init?.headers);
    if (init?.headers) new Headers(init.headers).forEach((v, k) => headers.set(k, v));
    const xml = (headers.get("content-type") ?? "").includes("xml");
    const send = (token: string | undefined) => {
      const h = new Headers(headers);
      if (token !== undefined) h.set("authorization", `${SESSION_SCHEME} ${token}`);
      // A Request's body can be read once: send a copy, keep the original for a retry.
      if (input instanceof Request) {
        return base(new Request(input.clone(), { ...init, headers: h }));
      }
      return base(url, { ...init, headers: h });
    };
    for (let attempt = 0;; attempt++) {
      const current = session(url, xml, init?.signal);
      const state = await current;
      if ("refused" in state) return state.refused;
      const response = await send(state.session);
      // One fresh login per request at most: a second 401 is the server's final word.
      if (response.status !== 401 || attempt > 0 || state.session === undefined) return response;
      await response.body?.cancel();
      if (login === current) login = undefined;
    }
  };
}

/**
 * The `fetch` an HTTP client transport should use: `options.fetch` (or the global one),
 * wrapped by {@linkcode authenticatedFetch} when `options.auth` is set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transportFetch } from "@switchboard/rpc/server";
 *
 * assert.equal(transportFetch({}), fetch);
 * ```
 */
export function transportFetch(
  options: { fetch?: typeof fetch; auth?: AuthCredentials },
): typeof fetch {
  const base = options.fetch ?? fetch;
  return options.auth ? authenticatedFetch(base, options.auth) : base;
}
