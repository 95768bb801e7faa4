/**
 * The Deno side of observability: a listener of its own for `GET /metrics`, and the
 * process's stdout as the access log's sink.
 *
 * @module
 */

/** A running metrics listener. */
export interface MetricsListener {
  /** `http://host:port` (the metrics are at `/metrics`). */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Stops listening. */
  shutdown(): Promise<void>;
}

/** Serves `GET /metrics` (and nothing else) on an address of its own. */
export function serveMetrics(
  listen: { hostname?: string; port?: number },
  metrics: () => Response | Promise<Response>,
): MetricsListener {
  const server = Deno.serve({
    hostname: listen.hostname ?? "127.0.0.1",
    port: listen.port ?? 9464,
    onListen: () => {},
  }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics" && (request.method === "GET" || request.method === "HEAD")) {
      return metrics();
    }
    return new Response("metrics are at GET /metrics\n", { status: 404 });
  });
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { url: `http://${host}:${addr.port}`, port: addr.port, shutdown: () => server.shutdown() };
}

const encoder = new TextEncoder();

/** Writes text to stdout, whole (a log line is never split by a short write). */
export function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
