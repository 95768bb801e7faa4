/**
 * Deno's TCP and TLS sockets as the byte streams msgpack-rpc sessions run over: the client
 * end (`dial` a `tcp://` or `tls://` URL) and the server end (`listen`, with an accept loop
 * that survives transient failures such as running out of file descriptors).
 *
 * @module
 */

import type { ByteStream } from "../../wire/msgpackrpc/session.ts";
import { acceptLoop } from "./accept.ts";

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
    closeWrite: () => conn.closeWrite(),
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
  /** Share the port with other listeners that set it too (`SO_REUSEPORT`; `--unstable-net`). */
  reusePort?: boolean;
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

/**
 * Listens and hands every accepted connection to `accept`, through the accept loop that
 * survives transient failures (see `accept.ts`). Only `close()` ends it.
 */
export function listen(
  address: ListenAddress,
  accept: (stream: ByteStream) => void,
  onError: (message: string) => void = () => {},
): SocketListener {
  const { hostname, port, tls } = address;
  // Only set when asked: the option needs --unstable-net.
  const reuse = address.reusePort ? { reusePort: true } : {};
  const listener: Deno.Listener = tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key, ...reuse })
    : Deno.listen({ hostname, port, ...reuse });
  const loop = acceptLoop(listener, (conn) => {
    try {
      if (!tls) (conn as Deno.TcpConn).setNoDelay(true);
    } catch {
      // not every connection supports it
    }
    accept(streamOf(conn));
  }, onError);
  const addr = listener.addr as Deno.NetAddr;
  return { hostname: addr.hostname, port: addr.port, close: () => loop.close() };
}
