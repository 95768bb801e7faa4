/**
 * What a listener passes the HTTP app with each request: its own module, so that the app's
 * parts (and middleware) can name it without importing the app that composes them.
 *
 * @module
 */

/** What a listener passes along with a request (the second argument of `fetch`). */
export interface HttpEnv {
  /** The client's address. */
  remoteAddr?: { hostname?: string };
  /** The URL of the listener that received the request (sessions are bound to it). */
  listener?: string;
}
