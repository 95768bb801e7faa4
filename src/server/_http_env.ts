/**
 * What a listener that counts each connection's requests in progress (for its idle timeout)
 * passes the app besides the public `HttpEnv`. Internal: no entry re-exports it.
 *
 * @module
 */

import type { HttpEnv } from "./http_env.ts";

/** The env of a request read from a counting listener. */
export interface ListenerEnv extends HttpEnv {
  /**
   * Called by the app exactly once per request, when its response is made: the listener
   * needs no promise of its own per request to learn it.
   */
  answered?: () => void;
}
