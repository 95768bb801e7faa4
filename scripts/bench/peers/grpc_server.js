// @grpc/grpc-js unary server (Node), the industry reference: Add and Payload.
"use strict";
const { grpc, Bench } = require("./grpc_service.js");

const server = new grpc.Server();
server.addService(Bench.service, {
  Add: (call, callback) => callback(null, { sum: call.request.a + call.request.b }),
  Payload: (call, callback) => callback(null, call.request.order),
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  console.log(JSON.stringify({ grpc: port }));
});
process.on("SIGTERM", () => process.exit(0));
