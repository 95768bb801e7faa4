/**
 * `fetch` that trusts extra certificate authorities (a deployment's own CA, a test CA)
 * for `https://`, through Deno's HTTP client option. The client must be closed with the
 * transport that made it.
 *
 * @module
 */

/** A fetch trusting `caCerts` (PEM) besides the system's roots, and how to release it. */
export function trustedFetch(
  caCerts: string[],
  base: typeof fetch = fetch,
): { fetch: typeof fetch; close(): void } {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (!deno?.createHttpClient) {
    throw new TypeError(
      "caCerts needs Deno's HTTP client; elsewhere add the CA to the runtime's trust store",
    );
  }
  const client = deno.createHttpClient({ caCerts });
  return {
    fetch: (input, init) =>
      base(input, { ...init, client } as RequestInit & { client: Deno.HttpClient }),
    close: () => client.close(),
  };
}
