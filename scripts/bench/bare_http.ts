/**
 * The HTTP ceiling: the thinnest Deno server doing JSON-RPC's I/O. A `Deno.serve` handler
 * does `await req.json()` and answers `JSON.stringify({ jsonrpc, id, result })`; no router,
 * validation or framework.
 *
 * @module
 */

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const call = await req.json();
  const result = call.method === "Bench.add" ? call.params.a + call.params.b : call.params.order;
  return new Response(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }), {
    headers: { "content-type": "application/json" },
  });
});
console.log(JSON.stringify({ http: server.addr.port }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
