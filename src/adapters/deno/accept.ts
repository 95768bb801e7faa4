/**
 * The accept loop every Deno listener runs (msgpack-rpc over TCP, HTTP): it hands each
 * connection on and survives transient failures such as running out of file descriptors.
 *
 * @module
 */

import { exponentialBackoff } from "../../core/backoff.ts";

/** The pause after a failed accept (e.g. EMFILE: too many open files): 10 ms doubling to 1 s. */
const RETRY = exponentialBackoff({ initial: 10, max: 1000 });

/** A running accept loop. */
export interface AcceptLoop {
  /** Stops accepting (closes the listener); resolves once the loop has ended. */
  close(): Promise<void>;
}

/**
 * Accepts connections from `listener` and hands each to `accept`. A failed accept while the
 * listener is open is transient (file descriptors run out, a connection reset before it was
 * taken): the loop pauses, doubling up to a second, and accepts again. Only `close()` ends it.
 */
export function acceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  accept: (conn: C) => void,
  onError: (message: string) => void = () => {},
): AcceptLoop {
  const { hostname, port } = listener.addr as Deno.NetAddr;
  let closed = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    let failures = 0;
    while (!closed) {
      let conn: C;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed) break;
        const pause = RETRY.delay(++failures);
        onError(
          `accept on ${hostname}:${port} failed (${
            error instanceof Error ? error.message : error
          }); retrying in ${pause} ms`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        continue;
      }
      failures = 0;
      accept(conn);
    }
  })();
  return {
    close: async () => {
      if (!closed) {
        closed = true;
        try {
          listener.close();
        } catch {
          // already closed
        }
        wake?.();
      }
      await loop;
    },
  };
}
