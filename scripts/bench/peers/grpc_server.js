// @grpc/grpc-js server (Node), the industry reference: unary Add and Payload, and
// server-streaming Items (n items {i, s: "item <i>"}, written as fast as the stream drains).
"use strict";
const { grpc, Bench } = require("./grpc_service.js");

/** The most items one stream makes, as scripts/bench/stream_component.ts's MAX_ITEMS. */
const MAX_ITEMS = 1e9;

function items(call) {
  const n = Math.min(call.request.n, MAX_ITEMS);
  let i = 0;
  let cancelled = false;
  call.on("cancelled", () => cancelled = true);
  // write() says false once the stream's buffer is full: wait for it to drain (flow control).
  const pump = () => {
    while (!cancelled && i < n) {
      const more = call.write({ i, s: `item ${i}` });
      i++;
      if (!more) return void call.once("drain", pump);
    }
    if (!cancelled) call.end();
  };
  pump();
}

const server = new grpc.Server();
server.addService(Bench.service, {
  Add: (call, callback) => callback(null, { sum: call.request.a + call.request.b }),
  Payload: (call, callback) => callback(null, call.request.order),
  Items: items,
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ grpc: port }));
});
process.on("SIGTERM", () => process.exit(0));
