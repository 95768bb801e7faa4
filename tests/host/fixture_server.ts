/**
 * A plain-http server of the component fixtures for loader tests: serves
 * tests/fixtures/components/, replacing `__ORIGIN__` in sources with its own origin.
 */

const ROOT = new URL("../fixtures/components/", import.meta.url);

/** A running fixture server. */
export interface FixtureServer {
  origin: string;
  url(path: string): string;
  /** Requests served, by path. */
  hits: string[];
  close(): Promise<void>;
}

/** Starts the fixture server on 127.0.0.1 with a free port. */
export function serveFixtures(): Promise<FixtureServer> {
  const hits: string[] = [];
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => {
        const origin = `http://127.0.0.1:${port}`;
        resolve({
          origin,
          url: (path) => `${origin}/${path}`,
          hits,
          close: () => server.shutdown(),
        });
      },
    }, async (request) => {
      const path = new URL(request.url).pathname;
      hits.push(path);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const text = await Deno.readTextFile(new URL(`.${path}`, ROOT));
        const origin = new URL(request.url).origin;
        return new Response(text.replaceAll("__ORIGIN__", origin), {
          headers: { "content-type": "application/typescript; charset=utf-8" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
  });
}
