/**
 * Authentication for the HTTP transport. HTTP has no connection to hold a login, so:
 *
 * - `Authorization: Bearer <token>` is checked on every request (bearer scheme);
 * - the challenge–response schemes of an {@linkcode AuthGate} (shared secret, password)
 *   run once through the reserved JSON-RPC methods `$/auth.hello` and `$/auth.login`,
 *   POSTed like any call and answered here, before the router; a good login returns a
 *   random session token (kept server-side, bound to the identity and to the listener that
 *   issued it, with a short expiry) that later requests present as
 *   `Authorization: Switchboard-Session <token>`; another listener refuses it. The
 *   shared secret itself never travels; the token does, so serve HTTPS where the path
 *   between the ends is not trusted.
 * - with `cookie: true`, a good login also sets the session as an `HttpOnly`,
 *   `SameSite=Strict` cookie, which a browser sends by itself where it can set no header
 *   (`EventSource`, `GET /rpc/<method>`, `GET /events`), and never with a request another
 *   site's page makes (cross-site request forgery).
 *
 * Refused requests get HTTP 401 with a JSON-RPC error body (code -32001, `Unauthorized:
 * …`), or an XML-RPC fault for XML requests.
 *
 * @module
 */

import type { Identity } from "../core/context.ts";
import { jsonRpcResponse, SESSION_SCHEME, unauthorizedResponse } from "../wire/http.ts";
import type { HttpAuthenticator, HttpRequestInfo } from "./http_authenticator.ts";
import { mediaType, readLimited } from "../wire/http_body.ts";
import { randomToken } from "../core/random_token.ts";
import { bearerBackend, type TokenCheck } from "./bearer.ts";
import { AuthGate, type AuthGateOptions } from "./gate.ts";
import { AUTH_HELLO, AUTH_LOGIN } from "./types.ts";

/** Largest handshake body looked at (bigger bodies are never a handshake). */
const MAX_HANDSHAKE_BYTES = 16 * 1024;

/** Options of {@linkcode httpAuthenticator}. */
export interface HttpAuthOptions {
  /** Challenge–response schemes (`$/auth.hello` / `$/auth.login`, then sessions). */
  gate?: AuthGate;
  /** Accepts `Authorization: Bearer <token>`: who holds the token, or undefined. */
  bearer?: TokenCheck;
  /** Refuse requests without credentials (default true); false lets them in anonymous. */
  required?: boolean;
  /**
   * How long a session lasts, in ms (default 5 minutes): a captured token is worth little
   * for long. Clients renew by logging in again before it ends (the Switchboard client
   * does so by itself).
   */
  sessionTtl?: number;
  /** How long a nonce from `$/auth.hello` may wait for its login, in ms (default 60 s). */
  nonceTtl?: number;
  /** Most sessions (and, separately, pending nonces) kept; the oldest go first (10 000). */
  maxSessions?: number;
  /** Rate limit of failed bearer tokens per peer (defaults of {@linkcode AuthGate}). */
  bearerRateLimit?: AuthGateOptions;
  /**
   * Also hand the session to browsers as a cookie (`switchboard-session`, `HttpOnly`,
   * `SameSite=Strict`, `Secure` over HTTPS) and accept it from a request without an
   * `Authorization` header; off by default.
   */
  cookie?: boolean;
}

/** The cookie that carries an HTTP session (with `cookie: true`). */
export const SESSION_COOKIE = "switchboard-session";

/** The value of cookie `name` in `request`, if sent. */
function cookieOf(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** What `$/auth.login` returns over HTTP. */
export interface HttpLoginResult {
  /** The token to send as `Authorization: Switchboard-Session <session>`. */
  session: string;
  /** Who the server now takes the caller for. */
  identity: Identity;
  /** Milliseconds until the session expires. */
  expiresIn: number;
}

/** Entries that expire, oldest first, with a bound on how many are kept. */
class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expires: number }>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  set(key: string, value: V, ttl: number): void {
    if (this.#entries.size >= this.#max) {
      const now = Date.now();
      for (const [k, e] of this.#entries) if (e.expires <= now) this.#entries.delete(k);
      // Still full: drop the oldest (Maps iterate in insertion order).
      while (this.#entries.size >= this.#max) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
    }
    this.#entries.set(key, { value, expires: Date.now() + ttl });
  }

  /** The live value, or undefined (expired entries are dropped); `take` also removes it. */
  get(key: string, take = false): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (take || entry.expires <= Date.now()) this.#entries.delete(key);
    return entry.expires > Date.now() ? entry.value : undefined;
  }
}

type JsonRpcId = string | number | null;

export { SESSION_SCHEME, unauthorizedResponse };

/**
 * The single JSON-RPC request object of a small JSON body, if it is one; bodies without
 * `mustContain` are not parsed (a cheap way to skip ordinary calls).
 */
async function peekCall(
  request: Request,
  info: HttpRequestInfo,
  mustContain = "",
): Promise<Record<string, unknown> | undefined> {
  if (!mediaType(request).startsWith("application/json")) return undefined;
  // Decide on the declared length before copying: an unread copy would buffer the body.
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_HANDSHAKE_BYTES) return undefined;
  // Through the transport's reader when there is one (it keeps the text for the router);
  // otherwise from a copy, so the request can still be read afterwards.
  const text = info.body
    ? await info.body()
    : await readLimited(request.clone(), MAX_HANDSHAKE_BYTES);
  if (text === undefined || !text.includes(mustContain)) return undefined;
  try {
    const body = JSON.parse(text);
    return typeof body === "object" && body !== null && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

function idOf(call: Record<string, unknown> | undefined): JsonRpcId {
  const id = call?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/**
 * Makes the `authenticate` option of the HTTP transport: bearer tokens, and sessions
 * opened by the challenge–response handshake of a gate.
 *
 * @example Refuse callers that do not prove the shared secret
 * ```ts
 * import assert from "node:assert/strict";
 * import { AuthGate, httpAuthenticator, Server, sharedSecretBackend } from "@switchboard/rpc/server";
 * import { connect, defineInterface, implement, method, sharedSecretCredentials, t } from "@switchboard/rpc";
 *
 * const Echo = defineInterface("Echo", { echo: method({ params: { text: t.string }, result: t.string }) });
 * const server = new Server();
 * server.register(implement(Echo, { echo: ({ text }) => text }));
 * const gate = new AuthGate([sharedSecretBackend("correct horse")]);
 * const http = await server.listenHttp({ port: 0 }, { authenticate: httpAuthenticator({ gate }) });
 *
 * const stranger = connect(http.url);
 * await assert.rejects(stranger.call("Echo.echo", { text: "hi" }), { name: "Unauthorized" });
 * const friend = connect(http.url, { auth: sharedSecretCredentials("correct horse", "worker-1") });
 * assert.equal(await friend.call("Echo.echo", { text: "hi" }), "hi");
 * await stranger.close();
 * await friend.close();
 * await server.close();
 * ```
 */
export function httpAuthenticator(options: HttpAuthOptions): HttpAuthenticator {
  const { gate } = options;
  if (!gate && !options.bearer) {
    throw new TypeError("httpAuthenticator needs a gate, a bearer check, or both");
  }
  const required = options.required ?? true;
  const sessionTtl = options.sessionTtl ?? 300_000;
  const nonceTtl = options.nonceTtl ?? 60_000;
  const max = options.maxSessions ?? 10_000;
  const sessions = new ExpiringMap<{ identity: Identity; listener: string | undefined }>(max);
  const nonces = new ExpiringMap<true>(max);
  const bearerGate = options.bearer
    ? new AuthGate([bearerBackend(options.bearer)], options.bearerRateLimit)
    : undefined;
  const challenges = [
    ...(bearerGate ? ["Bearer"] : []),
    ...(gate ? [SESSION_SCHEME] : []),
  ].join(", ");
  const how = [
    ...(bearerGate ? ["send Authorization: Bearer <token>"] : []),
    ...(gate ? [`log in with ${AUTH_HELLO} and ${AUTH_LOGIN} (schemes: ${gate.schemes})`] : []),
  ].join(" or ");

  const refuse = (request: Request, detail: string, id: JsonRpcId = null): Response =>
    unauthorizedResponse(mediaType(request).endsWith("xml"), detail, id, {
      "www-authenticate": challenges,
    });

  const handshake = async (
    request: Request,
    info: HttpRequestInfo,
    call: { id: JsonRpcId; method: string; params: unknown },
  ): Promise<Response> => {
    const peer = info.peer ?? "unknown";
    if (call.method === AUTH_HELLO) {
      const hello = gate!.hello();
      nonces.set(hello.nonce, true, nonceTtl);
      return jsonRpcResponse(200, call.id, { result: hello });
    }
    const params =
      (typeof call.params === "object" && call.params !== null ? call.params : {}) as Record<
        string,
        unknown
      >;
    const nonce = typeof params.nonce === "string" ? params.nonce : "";
    // A nonce is good for one login, so a recorded login cannot be replayed.
    if (!nonces.get(nonce, true)) {
      return refuse(request, `unknown or expired nonce: call ${AUTH_HELLO} again`, call.id);
    }
    try {
      const identity = await gate!.login(peer, nonce, params.scheme, params.proof);
      const session = randomToken();
      sessions.set(session, { identity, listener: info.listener }, sessionTtl);
      const result: HttpLoginResult = { session, identity, expiresIn: sessionTtl };
      if (!options.cookie) return jsonRpcResponse(200, call.id, { result });
      const secure = request.url.startsWith("https:") ? "; Secure" : "";
      return jsonRpcResponse(200, call.id, { result }, {
        "set-cookie": `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict; ` +
          `Max-Age=${Math.floor(sessionTtl / 1000)}${secure}`,
      });
    } catch (error) {
      return refuse(request, error instanceof Error ? error.message : String(error), call.id);
    }
  };

  return async (request, info) => {
    const peer = info.peer ?? "unknown";
    const header = request.headers.get("authorization");
    if (header !== null) {
      const space = header.indexOf(" ");
      const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
      const value = space < 0 ? "" : header.slice(space + 1).trim();
      if (scheme === "bearer" && bearerGate) {
        try {
          return await bearerGate.login(peer, "", "bearer", { token: value });
        } catch (error) {
          return refuse(request, error instanceof Error ? error.message : String(error));
        }
      }
      if (scheme === SESSION_SCHEME.toLowerCase() && gate) {
        const session = sessions.get(value);
        // A token is good only where it was issued: one captured on its way to one
        // listener opens no other.
        if (session && session.listener === info.listener) return session.identity;
        return refuse(
          request,
          `session unknown or expired here: log in again with ${AUTH_HELLO}`,
        );
      }
      return refuse(request, `authorization scheme ${JSON.stringify(scheme)} not accepted: ${how}`);
    }
    // A session cookie that is unknown here is no credential: the handshake may renew it.
    const cookie = options.cookie && gate ? cookieOf(request, SESSION_COOKIE) : undefined;
    if (cookie !== undefined) {
      const session = sessions.get(cookie);
      if (session && session.listener === info.listener) return session.identity;
    }
    // Without credentials only the handshake gets in; an optional server reads the body
    // for it only when the handshake may be there (its method names are in the text).
    if (!gate && !required) return undefined;
    const call = await peekCall(request, info, required ? "" : "$/auth.");
    if (
      gate && call?.jsonrpc === "2.0" && (call.method === AUTH_HELLO || call.method === AUTH_LOGIN)
    ) {
      return await handshake(request, info, {
        id: idOf(call),
        method: call.method,
        params: call.params,
      });
    }
    return required
      ? refuse(request, `this server needs authentication: ${how}`, idOf(call))
      : undefined;
  };
}
