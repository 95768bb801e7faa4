/**
 * How the msgpack-rpc client opens its byte stream: the runtime binds it (Deno's sockets in
 * `src/adapters/deno/tcp_client.ts`), so the client half stays runtime-free. Internal: no
 * entry re-exports it.
 *
 * @module
 */

import type { ByteStream } from "../wire/msgpackrpc/session.ts";

/** Opens a `tcp://` or `tls://` URL (trusting `caCerts` besides the system's for `tls://`). */
export type Dial = (url: URL, options: { caCerts?: string[] }) => Promise<ByteStream>;

let installed: Dial | undefined;

/** Sets how every TCP client transport dials (the runtime's adapter calls it once). */
export function installDial(dial: Dial): void {
  installed = dial;
}

/** Dials with the installed dialer; rejects when no runtime installed one. */
export function dialStream(url: URL, options: { caCerts?: string[] }): Promise<ByteStream> {
  if (!installed) {
    return Promise.reject(
      new TypeError(`no socket for ${url.protocol}// here: import "@switchboard/rpc/tcp"`),
    );
  }
  return installed(url, options);
}
