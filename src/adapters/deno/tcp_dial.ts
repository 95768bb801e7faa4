/**
 * Opens the client end of a TCP (or TLS) connection for a `tcp://` or `tls://` URL.
 *
 * @module
 */

/** Options of {@linkcode dial}. */
export interface DialOptions {
  /** Extra PEM CA certificates to trust for `tls://` (e.g. a self-signed server's). */
  caCerts?: string[];
}

/** Connects to `tcp://host:port` or `tls://host:port`. */
export async function dial(url: URL, options: DialOptions = {}): Promise<Deno.Conn> {
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port);
  if (!hostname || !(port > 0)) {
    throw new TypeError(`${url.href}: expected ${url.protocol}//host:port`);
  }
  if (url.protocol === "tls:") {
    return await Deno.connectTls({ hostname, port, caCerts: options.caCerts });
  }
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  return conn;
}
