/**
 * The HTTP ceiling: a bare `Deno.serve` handler answering the same JSON-RPC bodies by
 * hand (parse, compute, stringify), with no router, validation or framework.
 *
 * @module
 */

const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
  const call = await req.json();
  const result = call.method === "Bench.add" ? call.params.a + call.params.b : call.params.order;
  return new Response(JSON.stringify({ jsonrpc: "2.0", result, id: call.id }), {
    headers: { "content-type": "application/json" },
  });
});
console.log(JSON.stringify({ http: server.addr.port }));
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
