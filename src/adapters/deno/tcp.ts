/**
 * Deno's TCP and TLS sockets as the byte streams msgpack-rpc sessions run over: the client
 * end (`dial` a `tcp://` or `tls://` URL) and the server end (`listen`, with an accept loop
 * that survives transient failures such as running out of file descriptors).
 *
 * @module
 */

import type { ByteStream } from "../../wire/msgpackrpc/session.ts";
import { exponentialBackoff } from "../../core/backoff.ts";

/** Options of {@linkcode dial}. */
export interface DialOptions {
  /** Extra PEM CA certificates to trust for `tls://` (e.g. a self-signed server's). */
  caCerts?: string[];
}

/** A Deno connection as a byte stream. */
export function streamOf(conn: Deno.Conn): ByteStream {
  const addr = conn.remoteAddr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    read: (buffer) => conn.read(buffer),
    write: (bytes) => conn.write(bytes),
    close: () => conn.close(),
    remote: `${host}:${addr.port}`,
  };
}

/** Connects to `tcp://host:port` or `tls://host:port`. */
export async function dial(url: URL, options: DialOptions = {}): Promise<ByteStream> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port);
  if (!hostname || !(port > 0)) {
    throw new TypeError(`${url.href}: expected ${url.protocol}//host:port`);
  }
  if (url.protocol === "tls:") {
    return streamOf(await Deno.connectTls({ hostname, port, caCerts: options.caCerts }));
  }
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  return streamOf(conn);
}

/** Where to listen. */
export interface ListenAddress {
  /** Interface address. */
  hostname: string;
  /** Port (0 picks a free one). */
  port: number;
  /** Serve TLS with this PEM certificate chain and key. */
  tls?: { cert: string; key: string };
}

/** A listening socket feeding an accept callback. */
export interface SocketListener {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** Stops accepting; resolves once the accept loop has ended. */
  close(): Promise<void>;
}

/** The pause after a failed accept (e.g. EMFILE: too many open files): 10 ms doubling to 1 s. */
const RETRY = exponentialBackoff({ initial: 10, max: 1000 });

/**
 * Listens and hands every accepted connection to `accept`. A failed accept while the
 * listener is open is transient (file descriptors run out, a connection reset before it
 * was taken): the loop pauses, doubling up to a second, and accepts again. Only `close()`
 * ends it.
 */
export function listen(
  address: ListenAddress,
  accept: (stream: ByteStream) => void,
  onError: (message: string) => void = () => {},
): SocketListener {
  const { hostname, port, tls } = address;
  const listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key })
    : Deno.listen({ hostname, port });
  let closed = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    let failures = 0;
    while (!closed) {
      let conn: Deno.Conn;
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
      try {
        if (!tls) (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // not every connection supports it
      }
      accept(streamOf(conn));
    }
  })();
  const addr = listener.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
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
